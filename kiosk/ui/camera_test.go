package ui

import (
	"context"
	"log/slog"
	"slices"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk/app"
)

var missingCamera = app.CameraStatus{State: camera.StateMissing, Device: "/dev/video0", Reason: "kamera tidak ditemukan"}

const missingWords = "Kamera: tidak ditemukan — periksa kabel USB, atau pakai pemindai genggam"

func TestHomeSaysWhyTheCameraIsMissing(t *testing.T) {
	h := loggedIn(t, budi)
	home := h.s.cur.(*HomeScreen)
	if home.Camera.Text != "Kamera: siap" || home.CamRetry.Visible() {
		t.Fatalf("ready camera: %q, retry shown %v", home.Camera.Text, home.CamRetry.Visible())
	}
	h.k.status.Camera = missingCamera
	h.s.Refresh()
	if home.Camera.Text != missingWords || !home.CamRetry.Visible() {
		t.Fatalf("missing camera: %q, retry shown %v", home.Camera.Text, home.CamRetry.Visible())
	}
	test.Tap(home.CamRetry)
	if h.k.camRetries != 1 {
		t.Fatalf("retry tapped: %d retries asked", h.k.camRetries)
	}
}

func TestActivationWithoutCameraFocusesTheHandScanner(t *testing.T) {
	h := loggedIn(t, budi)
	h.k.scanErr = context.Canceled // the camera reads nothing
	h.k.status.Camera = missingCamera
	test.Tap(h.s.cur.(*HomeScreen).Activate)
	p := h.s.cur.(*ActivationScreen)
	if !p.NoCamera || h.w.Canvas().Focused() != p.Token {
		t.Fatalf("no camera: hand scanner mode %v, focused %T", p.NoCamera, h.w.Canvas().Focused())
	}
	if p.CamState.Text != missingWords || !p.CamRetry.Visible() {
		t.Fatalf("state line %q, retry shown %v", p.CamState.Text, p.CamRetry.Visible())
	}
	if p.Hint.Text != h.s.tx.T("ui.activation.scan_by_hand") {
		t.Fatalf("hint %q asks for the camera", p.Hint.Text)
	}
	h.k.status.Camera.State = camera.StateReconnecting
	h.s.Refresh()
	if p.CamState.Text != "Kamera: menyambung ulang…" {
		t.Fatalf("reconnecting: %q", p.CamState.Text)
	}
	test.Type(p.Token, "IKD1:valid")
	test.Tap(p.Use)
	if p.Review == nil {
		t.Fatalf("no review after the hand scanner's token (%q)", p.Error.Text)
	}
}

func TestActivationWithCameraShowsThePreview(t *testing.T) {
	h := loggedIn(t, budi)
	h.k.scanErr = context.Canceled
	test.Tap(h.s.cur.(*HomeScreen).Activate)
	p := h.s.cur.(*ActivationScreen)
	if p.NoCamera || p.Hint.Text != h.s.tx.T("ui.activation.show_qr") {
		t.Fatalf("camera ready: hand scanner mode %v, hint %q", p.NoCamera, p.Hint.Text)
	}
	// Unplugged mid-visit: the picture says so.
	h.k.status.Camera.State = camera.StateLost
	h.s.Refresh()
	if p.Preview.Status.Text != "Kamera: terputus — periksa kabel USB; sementara pakai pemindai genggam" {
		t.Fatalf("camera lost mid-visit: %q over the picture", p.Preview.Status.Text)
	}
	h.k.status.Camera.State = camera.StateReady
	h.s.Refresh()
	if p.Preview.Status.Text != "" {
		t.Fatalf("camera back: %q over the picture", p.Preview.Status.Text)
	}
}

func TestSettingsCameraTestSaysWhy(t *testing.T) {
	h := loggedIn(t, sari)
	h.k.status.Camera = missingCamera
	test.Tap(h.s.cur.(*HomeScreen).Settings)
	st := h.s.cur.(*SettingsScreen)
	test.Tap(st.TestCam)
	if st.Preview.Status.Text != missingWords || !st.CamRetry.Visible() {
		t.Fatalf("camera test: %q, retry shown %v", st.Preview.Status.Text, st.CamRetry.Visible())
	}
	h.k.status.Camera = app.CameraStatus{State: camera.StateReady, Device: "/dev/video0"}
	test.Tap(st.CamRetry)
	if h.k.camRetries != 1 || st.Preview.Status.Text != "" || st.CamRetry.Visible() {
		t.Fatalf("after a retry: %d retries, %q, retry shown %v", h.k.camRetries, st.Preview.Status.Text, st.CamRetry.Visible())
	}
}

// screenLog keeps the screen= attribute of each record.
type screenLog struct{ screens []string }

func (l *screenLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *screenLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *screenLog) WithGroup(string) slog.Handler            { return l }
func (l *screenLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "screen" {
			l.screens = append(l.screens, a.Value.String())
		}
		return true
	})
	return nil
}

func TestShellLogsEachScreen(t *testing.T) {
	h := loggedIn(t, budi)
	var log screenLog
	h.s.log = slog.New(&log)
	h.k.scanErr = context.Canceled
	test.Tap(h.s.cur.(*HomeScreen).Activate)
	test.Tap(h.s.cur.(*ActivationScreen).Cancel)
	if want := []string{"activation", "home"}; !slices.Equal(log.screens, want) {
		t.Fatalf("screens logged %v, want %v", log.screens, want)
	}
}
