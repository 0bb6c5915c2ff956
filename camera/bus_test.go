package camera

import (
	"github.com/ikd-field/ikd/kiosk"

	"context"
	"errors"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"
)

// countingSource returns frames 1..n, then err (or blocks until ctx ends if err is nil).
// If gate is set, each frame after the first waits for a token on it.
type countingSource struct {
	n    uint64
	err  error
	gate chan struct{}
	seq  uint64
}

func (s *countingSource) Next(ctx context.Context) (Frame, error) {
	if s.seq > 0 && s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return Frame{}, ctx.Err()
		}
	}
	if s.seq == s.n {
		if s.err != nil {
			return Frame{}, s.err
		}
		<-ctx.Done()
		return Frame{}, ctx.Err()
	}
	s.seq++
	return Frame{Seq: s.seq, Captured: time.Now()}, nil
}

func (s *countingSource) Close() error { return nil }

// testCtx bounds a test that would otherwise hang if the bus blocked.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// runBus starts b.Run in a goroutine owned by the test and returns its result channel.
func runBus(ctx context.Context, b *Bus, src Source) <-chan error {
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, src) }()
	return done
}

func TestBusSlowSubscriberDoesNotDelayFastOne(t *testing.T) {
	const n = 50
	ctx := testCtx(t)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	// The source makes frame k+1 only after the fast subscriber has taken frame k. The
	// slow subscriber reads nothing until the end: if the bus waited for it, the source
	// would never be asked for frame 2 and the test would time out.
	src := &countingSource{n: n, gate: make(chan struct{})}
	b := NewBus()
	fast, slow := b.Subscribe(), b.Subscribe()
	done := runBus(runCtx, b, src)

	var seen []uint64
	for len(seen) < n {
		f, err := fast.Next(ctx)
		if err != nil {
			t.Fatalf("fast subscriber after %d frames: %v", len(seen), err)
		}
		seen = append(seen, f.Seq)
		if len(seen) < n {
			src.gate <- struct{}{}
		}
	}
	for i, s := range seen {
		if s != uint64(i+1) {
			t.Fatalf("fast subscriber saw %v, want every frame 1..%d in order", seen, n)
		}
	}
	if fast.Dropped() != 0 {
		t.Fatalf("fast subscriber dropped %d", fast.Dropped())
	}

	f, err := slow.Next(ctx)
	if err != nil || f.Seq != n {
		t.Fatalf("slow subscriber got seq %d, %v; want the newest frame %d", f.Seq, err, n)
	}
	if slow.Dropped() != n-1 {
		t.Fatalf("slow subscriber dropped %d, want %d", slow.Dropped(), n-1)
	}
	if b.Published() != n {
		t.Fatalf("published %d, want %d", b.Published(), n)
	}

	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel: %v, want nil", err)
	}
	for name, s := range map[string]*Subscription{"fast": fast, "slow": slow} {
		if _, err := s.Next(ctx); !errors.Is(err, ErrClosed) {
			t.Fatalf("%s subscriber after shutdown: %v, want ErrClosed", name, err)
		}
	}
}

func TestBusEveryFrameSeenOrCountedDropped(t *testing.T) {
	// Free-running source and three readers of different speeds: each sees increasing
	// sequence numbers, and seen + dropped accounts for every published frame.
	const n = 2000
	ctx := testCtx(t)
	b := NewBus()
	subs := []*Subscription{b.Subscribe(), b.Subscribe(), b.Subscribe()}
	done := runBus(ctx, b, &countingSource{n: n, err: io.EOF})

	var wg sync.WaitGroup
	seen := make([]int, len(subs))
	for i, s := range subs {
		wg.Go(func() {
			var last uint64
			for {
				f, err := s.Next(ctx)
				if err != nil {
					if !errors.Is(err, ErrClosed) || !errors.Is(err, io.EOF) {
						t.Errorf("subscriber %d: %v, want ErrClosed wrapping the source's io.EOF", i, err)
					}
					return
				}
				if f.Seq <= last {
					t.Errorf("subscriber %d: seq %d after %d", i, f.Seq, last)
				}
				last = f.Seq
				seen[i]++
				for range i * 3 { // slower readers yield more
					runtime.Gosched()
				}
			}
		})
	}
	if err := <-done; !errors.Is(err, io.EOF) {
		t.Fatalf("Run: %v, want the source's io.EOF", err)
	}
	wg.Wait()
	for i, s := range subs {
		if got := uint64(seen[i]) + s.Dropped(); got != n {
			t.Errorf("subscriber %d: seen %d + dropped %d = %d, want %d", i, seen[i], s.Dropped(), got, n)
		}
	}
}

func TestBusSourceFailureReachesSubscribers(t *testing.T) {
	ctx := testCtx(t)
	gone := &DeviceError{Device: "/dev/video0", Op: "read frame", Kind: ErrDeviceGone}
	b := NewBus()
	sub := b.Subscribe()
	err := b.Run(ctx, &countingSource{n: 2, err: gone})
	if !errors.Is(err, ErrDeviceGone) {
		t.Fatalf("Run: %v, want ErrDeviceGone", err)
	}
	// The pending frame is still delivered, then the failure.
	if f, err := sub.Next(ctx); err != nil || f.Seq != 2 {
		t.Fatalf("got seq %d, %v; want the last frame 2", f.Seq, err)
	}
	if sub.Dropped() != 1 {
		t.Fatalf("dropped %d, want 1", sub.Dropped())
	}
	_, err = sub.Next(ctx)
	if !errors.Is(err, ErrClosed) || !errors.Is(err, ErrDeviceGone) {
		t.Fatalf("subscriber: %v, want ErrClosed and ErrDeviceGone", err)
	}
	if m := kiosk.OfficerMessage(err, kiosk.LangEN); m != "camera disconnected" {
		t.Fatalf("officer message %+v", m)
	}
	if _, err := b.Subscribe().Next(ctx); !errors.Is(err, ErrDeviceGone) {
		t.Fatalf("subscriber after the bus stopped: %v", err)
	}
	if err := b.Run(ctx, &countingSource{n: 1}); err == nil {
		t.Fatal("second Run succeeded")
	}
}

func TestBusLateSubscriberGetsLatestFrame(t *testing.T) {
	ctx := testCtx(t)
	runCtx, stop := context.WithCancel(ctx)
	src := &countingSource{n: 3, gate: make(chan struct{})}
	b := NewBus()
	first := b.Subscribe()
	done := runBus(runCtx, b, src)
	for i := 1; i <= 3; i++ {
		if f, err := first.Next(ctx); err != nil || f.Seq != uint64(i) {
			t.Fatalf("got %d, %v", f.Seq, err)
		}
		if i < 3 {
			src.gate <- struct{}{}
		}
	}
	late := b.Subscribe()
	if f, err := late.Next(ctx); err != nil || f.Seq != 3 || late.Dropped() != 0 {
		t.Fatalf("late subscriber got %d, %v, dropped %d; want frame 3 at once", f.Seq, err, late.Dropped())
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSubscriptionCloseAndContext(t *testing.T) {
	ctx := testCtx(t)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	b := NewBus()
	gone, waiting := b.Subscribe(), b.Subscribe()
	done := runBus(runCtx, b, &countingSource{n: 0}) // never produces

	gone.Close()
	if _, err := gone.Next(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed subscription: %v, want ErrClosed", err)
	}
	gone.Close() // twice is fine

	nextCtx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := waiting.Next(nextCtx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with cancelled ctx: %v", err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A SubscribeNew subscriber never sees the frame published before it subscribed.
func TestBusSubscribeNewWaitsForTheNextFrame(t *testing.T) {
	ctx := testCtx(t)
	runCtx, stop := context.WithCancel(ctx)
	src := &countingSource{n: 2, gate: make(chan struct{})}
	b := NewBus()
	first := b.Subscribe()
	done := runBus(runCtx, b, src)
	if f, err := first.Next(ctx); err != nil || f.Seq != 1 {
		t.Fatalf("got %d, %v", f.Seq, err)
	}
	fresh := b.SubscribeNew()
	src.gate <- struct{}{}
	if f, err := fresh.Next(ctx); err != nil || f.Seq != 2 {
		t.Fatalf("SubscribeNew got frame %d, %v; want frame 2, published after it subscribed", f.Seq, err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
