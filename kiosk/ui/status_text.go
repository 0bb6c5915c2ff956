package ui

import (
	"time"

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
		return s.tx.T("ui.status.models_ready")
	case app.FaceLoading, "":
		return s.tx.T("ui.status.models_loading")
	}
	return s.tx.T("ui.status.models_unavailable", s.tx.Err(st.FaceError))
}

func (s *Shell) cameraText(st app.Status) string {
	switch st.Camera {
	case app.CameraReady:
		return s.tx.T("ui.status.camera_ready")
	case app.CameraNone, "":
		return s.tx.T("ui.status.camera_none")
	}
	return s.tx.T("ui.status.camera_error", st.Camera)
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
