package camera

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// stateLog records a Reopener's state changes.
type stateLog struct {
	states []State
	errs   []error
}

func (l *stateLog) on(s State, err error) {
	l.states = append(l.states, s)
	l.errs = append(l.errs, err)
}

func TestReopenerStatesOfAnUnpluggedCamera(t *testing.T) {
	port := &usbPort{clock: newFakeClock(), plugged: true, sessions: [][]step{
		{{frame: yuyvFrame(1)}, {readErr: errors.New("unplugged")}},
		{{frame: yuyvFrame(2)}},
	}}
	r := port.reopener()
	defer r.Close()
	var log stateLog
	r.OnState = log.on
	r.OnRetry = func(error, time.Duration) { port.plugged = len(log.states) >= 4 }
	for range 2 {
		if _, err := r.Next(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	want := []State{StateReady, StateLost, StateReconnecting, StateMissing, StateReady}
	if !slices.Equal(log.states, want) {
		t.Fatalf("states %v, want %v", log.states, want)
	}
	if !errors.Is(log.errs[1], ErrDeviceGone) || !errors.Is(log.errs[3], ErrNoCamera) {
		t.Fatalf("errors %v: want device gone when lost, no camera when missing", log.errs)
	}
}

// A V4L2 node that does not exist, through the real webcam adapter.
func TestReopenerWebcamThatDoesNotExistIsMissing(t *testing.T) {
	dev := filepath.Join(t.TempDir(), "video9")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log stateLog
	r := &Reopener{
		Open:    func(context.Context) (Source, error) { return OpenWebcam(WebcamConfig{Device: dev, Logger: quiet}) },
		OnState: func(s State, err error) { log.on(s, err); cancel() },
		Logger:  quiet,
	}
	defer r.Close()
	if _, err := r.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("next: %v, want context.Canceled", err)
	}
	if !slices.Equal(log.states, []State{StateMissing}) || !errors.Is(log.errs[0], ErrNoCamera) {
		t.Fatalf("states %v errors %v, want missing with ErrNoCamera", log.states, log.errs)
	}
}

// A replay whose next frame vanishes from disk mid-stream is lost, then re-opened.
func TestReopenerReplayLostMidStream(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "1.png"), makePNG(t, 10))
	writeFile(t, filepath.Join(dir, "2.png"), makePNG(t, 200))
	var log stateLog
	r := &Reopener{
		Open:       func(context.Context) (Source, error) { return OpenReplay(dir, ReplayOptions{}) },
		OnState:    log.on,
		MinBackoff: time.Millisecond,
		Logger:     quiet,
	}
	defer r.Close()
	if _, err := r.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "2.png")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []State{StateReady, StateLost, StateReconnecting, StateReady}
	if !slices.Equal(log.states, want) {
		t.Fatalf("states %v, want %v", log.states, want)
	}
}

func TestOpenStateOfReplays(t *testing.T) {
	_, missing := OpenReplay(filepath.Join(t.TempDir(), "none"), ReplayOptions{})
	_, empty := OpenReplay(t.TempDir(), ReplayOptions{})
	for _, err := range []error{missing, empty} {
		if s := OpenState(err); s != StateMissing {
			t.Errorf("OpenState(%v) = %s, want missing", err, s)
		}
	}
	if s := OpenState(&DeviceError{Device: "/dev/video0", Op: "open", Kind: ErrCameraBusy}); s != StateBusy {
		t.Errorf("busy device: %s", s)
	}
}
