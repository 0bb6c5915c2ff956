package camera

import (
	"context"
	"errors"
	"image"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// usbPort simulates a camera being plugged and unplugged: each open while plugged returns
// a new fake device that delivers the next scripted session.
type usbPort struct {
	clock    *fakeClock
	plugged  bool
	sessions [][]step // steps for each successful open, in order
	opens    int      // attempts, successful or not
	devices  []*fakeDevice
}

func (p *usbPort) open(string) (device, error) {
	p.opens++
	if !p.plugged || len(p.sessions) == 0 {
		return nil, unix.ENOENT
	}
	d := yuyvCamera(p.clock, p.sessions[0]...)
	p.sessions = p.sessions[1:]
	p.devices = append(p.devices, d)
	return d, nil
}

func (p *usbPort) reopener() *Reopener {
	return &Reopener{
		Open: func(context.Context) (Source, error) {
			return openWebcam(WebcamConfig{Device: "/dev/video0", Logger: quiet}, p.open, p.clock.now)
		},
		MinBackoff: time.Millisecond,
		MaxBackoff: 8 * time.Millisecond,
		Logger:     quiet,
	}
}

func TestReopenerDeviceVanishesThenComesBack(t *testing.T) {
	ctx := context.Background()
	port := &usbPort{clock: newFakeClock(), plugged: true, sessions: [][]step{
		{{frame: yuyvFrame(1)}, {frame: yuyvFrame(2)}, {readErr: unix.ENODEV}},
		{{frame: yuyvFrame(3)}, {frame: yuyvFrame(4)}},
	}}
	r := port.reopener()
	defer r.Close()
	var failures []error
	r.OnRetry = func(err error, wait time.Duration) {
		failures = append(failures, err)
		// Unplugged at the read error; plugged back in after two failed opens.
		port.plugged = len(failures) > 2
	}

	for want := byte(1); want <= 4; want++ {
		f, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v", want, err)
		}
		if y := f.Image.(*image.YCbCr).Y[0]; y != want || f.Seq != uint64(want) {
			t.Fatalf("got seq %d luminance %d, want both %d (Seq continues across re-opens)", f.Seq, y, want)
		}
	}
	if len(failures) != 3 || !errors.Is(failures[0], ErrDeviceGone) ||
		!errors.Is(failures[1], ErrNoCamera) || !errors.Is(failures[2], ErrNoCamera) {
		t.Fatalf("failures %v, want device gone then two no-camera opens", failures)
	}
	if port.opens != 4 || len(port.devices) != 2 || port.devices[0].closed != 1 {
		t.Fatalf("opens %d, devices %d, first closed %d times", port.opens, len(port.devices), port.devices[0].closed)
	}
}

func TestReopenerNeverComesBack(t *testing.T) {
	port := &usbPort{clock: newFakeClock(), plugged: false}
	r := port.reopener()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var waits []time.Duration
	r.OnRetry = func(err error, wait time.Duration) {
		if !errors.Is(err, ErrNoCamera) {
			t.Errorf("failure %v, want ErrNoCamera", err)
		}
		waits = append(waits, wait)
		if len(waits) == 7 {
			cancel()
		}
	}
	if _, err := r.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	ms := time.Millisecond
	want := []time.Duration{1 * ms, 2 * ms, 4 * ms, 8 * ms, 8 * ms, 8 * ms, 8 * ms}
	if len(waits) != len(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want capped doubling %v", waits, want)
		}
	}
	if port.opens != 7 {
		t.Fatalf("%d open attempts, want 7 (none after cancel)", port.opens)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReopenerFrameTimeouts(t *testing.T) {
	// A camera that stops sending without an error: each session times out, and a
	// successful frame resets the backoff.
	port := &usbPort{clock: newFakeClock(), plugged: true, sessions: [][]step{
		{{frame: yuyvFrame(1)}},
		{},
		{{frame: yuyvFrame(2)}},
	}}
	r := port.reopener()
	defer r.Close()
	var waits []time.Duration
	r.OnRetry = func(err error, wait time.Duration) {
		if !errors.Is(err, ErrDeviceGone) {
			t.Errorf("failure %v, want ErrDeviceGone after a frame timeout", err)
		}
		waits = append(waits, wait)
	}
	for want := byte(1); want <= 2; want++ {
		f, err := r.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if y := f.Image.(*image.YCbCr).Y[0]; y != want {
			t.Fatalf("luminance %d, want %d", y, want)
		}
	}
	if len(waits) != 2 || waits[0] != time.Millisecond || waits[1] != 2*time.Millisecond {
		t.Fatalf("waits %v, want [1ms 2ms]", waits)
	}
	// The third session times out after its frame; backoff starts again from the minimum.
	ctx, cancel := context.WithCancel(context.Background())
	r.OnRetry = func(err error, wait time.Duration) {
		waits = append(waits, wait)
		cancel()
	}
	if _, err := r.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if waits[2] != time.Millisecond {
		t.Fatalf("wait after a good frame %v, want reset to 1ms", waits[2])
	}
}

func TestReopenerCancelledBeforeStart(t *testing.T) {
	port := &usbPort{clock: newFakeClock(), plugged: true, sessions: [][]step{{{frame: yuyvFrame(1)}}}}
	r := port.reopener()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Next(ctx); !errors.Is(err, context.Canceled) || port.opens != 0 {
		t.Fatalf("err = %v after %d opens, want context.Canceled and no open", err, port.opens)
	}
}
