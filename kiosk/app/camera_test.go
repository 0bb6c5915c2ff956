package app

import (
	"context"
	"image"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/ikd-field/ikd/camera"
)

// cameraLog is a slog handler keeping the camera= attribute of each record.
type cameraLog struct {
	mu      sync.Mutex
	states  []string
	devices []string
	changed chan struct{}
}

func newCameraLog() *cameraLog { return &cameraLog{changed: make(chan struct{}, 1)} }

func (l *cameraLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *cameraLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *cameraLog) WithGroup(string) slog.Handler            { return l }
func (l *cameraLog) Handle(_ context.Context, r slog.Record) error {
	var state, dev string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "camera":
			state = a.Value.String()
		case "device":
			dev = a.Value.String()
		}
		return true
	})
	if state == "" {
		return nil
	}
	l.mu.Lock()
	l.states = append(l.states, state)
	l.devices = append(l.devices, dev)
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return nil
}

// waitFor blocks until the logged states contain want in order (other states may come
// between) and returns the states logged so far.
func (l *cameraLog) waitFor(want ...camera.State) []string {
	for {
		l.mu.Lock()
		got := slices.Clone(l.states)
		l.mu.Unlock()
		i := 0
		for _, s := range got {
			if i < len(want) && s == string(want[i]) {
				i++
			}
		}
		if i == len(want) {
			return got
		}
		<-l.changed
	}
}

func openWithCamera(t *testing.T, c CameraConfig) (*App, *cameraLog) {
	t.Helper()
	log := newCameraLog()
	a, err := Open(context.Background(), Config{DataDir: t.TempDir(), Camera: c, Log: slog.New(log)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return a, log
}

// A V4L2 node that does not exist is reported missing, in the log and the status, before
// anyone unlocks the kiosk; a retry tries it again.
func TestCameraThatDoesNotExistIsMissingBeforeUnlock(t *testing.T) {
	dev := filepath.Join(t.TempDir(), "video9")
	a, log := openWithCamera(t, CameraConfig{Device: dev, Width: 640, Height: 480})
	log.waitFor(camera.StateMissing)
	st := a.Status()
	if !st.Locked || st.Camera.State != camera.StateMissing || st.Camera.Device != dev || st.Camera.Reason == "" {
		t.Fatalf("status %+v, want locked with the camera missing and why", st)
	}
	log.mu.Lock()
	if i := slices.Index(log.states, string(camera.StateMissing)); log.devices[i] != dev {
		t.Errorf("camera=missing logged with device %q, want %q", log.devices[i], dev)
	}
	log.mu.Unlock()
	a.RetryCamera()
	got := log.waitFor(camera.StateMissing, camera.StateStarting, camera.StateMissing)
	if a.Status().Camera.State != camera.StateMissing {
		t.Fatalf("after a retry: %+v (log %v)", a.Status().Camera, got)
	}
}

// A replay whose frame vanishes from disk mid-stream is lost, then reconnects.
func TestCameraReplayLostThenReconnecting(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"1.png", "2.png"} {
		writePNG(t, filepath.Join(dir, name))
	}
	a, log := openWithCamera(t, CameraConfig{Device: "replay:" + dir, FPS: 100})
	log.waitFor(camera.StateStarting, camera.StateReady)
	if err := os.Remove(filepath.Join(dir, "2.png")); err != nil {
		t.Fatal(err)
	}
	got := log.waitFor(camera.StateStarting, camera.StateReady, camera.StateLost, camera.StateReconnecting, camera.StateReady)
	want := []string{"starting", "ready", "lost", "reconnecting", "ready"}
	if !slices.Equal(got, want) {
		t.Fatalf("camera states %v, want %v", got, want)
	}
	if st := a.Status().Camera; st.State != camera.StateReady {
		t.Fatalf("status %+v, want ready again", st)
	}
}

// A replay of a directory that does not exist is missing too.
func TestCameraReplayOfNothingIsMissing(t *testing.T) {
	a, log := openWithCamera(t, CameraConfig{Device: "replay:" + filepath.Join(t.TempDir(), "none")})
	log.waitFor(camera.StateMissing)
	if _, err := a.Preview(context.Background()); err != nil {
		t.Fatalf("preview while the replay is missing: %v (the bus waits for it to come back)", err)
	}
}

func writePNG(t *testing.T, path string) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 32, 24))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
