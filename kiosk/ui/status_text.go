package ui

import (
	"time"

	"github.com/ikd-field/ikd/camera"

	"github.com/ikd-field/ikd/kiosk/app"
)

// Status in words, shared by the home screen and the sync panel.

func (s *Shell) onlineText(st app.Status) string {
	if st.Online {
		return s.tx.T("ui.status.online")
	}
	return s.tx.T("ui.status.offline")
}

func (s *Shell) whenText(t time.Time) string {
	if t.IsZero() {
		return s.tx.T("ui.status.never")
	}
	return t.Local().Format("02-01-2006 15:04:05")
}

func (s *Shell) modelsText(st app.Status) string {
	switch st.FaceModels {
	case app.FaceReady:
		if st.FaceEngines != "" {
			return s.tx.T("ui.status.models_ready_engines", st.FaceEngines)
		}
		return s.tx.T("ui.status.models_ready")
	case app.FaceLoading, "":
		return s.tx.T("ui.status.models_loading")
	}
	return s.tx.T("ui.status.models_unavailable", s.tx.Err(st.FaceError))
}

func (s *Shell) cameraText(c app.CameraStatus) string {
	switch c.State {
	case camera.StateReady:
		return s.tx.T("ui.status.camera_ready")
	case camera.StateStarting:
		return s.tx.T("ui.status.camera_starting")
	case camera.StateMissing:
		return s.tx.T("ui.status.camera_missing")
	case camera.StateBusy:
		return s.tx.T("ui.status.camera_busy")
	case camera.StateLost:
		return s.tx.T("ui.status.camera_lost")
	case camera.StateReconnecting:
		return s.tx.T("ui.status.camera_reconnecting")
	case camera.StateNone, "":
		return s.tx.T("ui.status.camera_none")
	}
	return s.tx.T("ui.status.camera_error", c.Reason)
}

// cameraUsable: the camera gives frames, or is about to.
func cameraUsable(c app.CameraStatus) bool {
	return c.State == camera.StateReady || c.State == camera.StateStarting
}

// cameraRetryable: opening the configured camera again may help.
func cameraRetryable(c app.CameraStatus) bool {
	return !cameraUsable(c) && c.State != camera.StateNone && c.State != ""
}

// retryCamera opens the camera again off the UI goroutine, then calls done.
func (s *Shell) retryCamera(done func()) {
	s.async(func() error { s.k.RetryCamera(); return nil }, func(error) { done() })
}

func (s *Shell) clockText(st app.Status) string {
	switch st.ClockStatus {
	case "synced":
		return s.tx.T("ui.status.clock_synced")
	case "restored":
		return s.tx.T("ui.status.clock_restored")
	}
	return s.tx.T("ui.status.clock_unanchored")
}

// lastSync is the newer of the push and pull successes.
func lastSync(st app.Status) time.Time {
	if st.PullSuccess.After(st.PushSuccess) {
		return st.PullSuccess
	}
	return st.PushSuccess
}
