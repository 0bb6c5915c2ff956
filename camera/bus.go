package camera

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrClosed is returned by Subscription.Next once the bus has stopped or the
// subscription was closed. When the source failed, the error also wraps the cause.
var ErrClosed = errors.New("frame bus closed")

// Bus fans the frames of one Source out to many subscribers (the preview, the QR and face
// analysers). Each subscriber holds only the newest frame it has not read yet: a slow
// subscriber skips frames, counted in Dropped, and never delays the source or the others.
// Frames are shared, so subscribers must treat Frame.Image as read-only.
//
// A Bus runs once: its owner calls Run, which returns when ctx ends or the source fails.
type Bus struct {
	mu        sync.Mutex
	subs      map[*Subscription]struct{}
	latest    Frame
	hasLatest bool
	published uint64
	running   bool
	closed    bool
	closeErr  error
}

// NewBus returns a bus with no subscribers.
func NewBus() *Bus {
	return &Bus{subs: make(map[*Subscription]struct{})}
}

// Subscribe adds a subscriber. Its first Next returns the newest frame already
// published, if any, so a preview opened late shows a picture at once.
func (b *Bus) Subscribe() *Subscription { return b.subscribe(true) }

// SubscribeNew adds a subscriber that sees only frames published after the call: the face
// check must not take a frame from before it started, which may show the previous citizen.
func (b *Bus) SubscribeNew() *Subscription { return b.subscribe(false) }

func (b *Bus) subscribe(withLatest bool) *Subscription {
	s := &Subscription{bus: b, ready: make(chan struct{}, 1)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		s.closed, s.err = true, b.closeErr
		return s
	}
	if withLatest && b.hasLatest {
		s.frame, s.fresh = b.latest, true
	}
	b.subs[s] = struct{}{}
	return s
}

// Run reads frames from src and publishes them until ctx ends (it then returns nil) or
// src fails (it returns src's error). Either way every subscription is closed. Run does
// not close src; its owner does.
func (b *Bus) Run(ctx context.Context, src Source) error {
	b.mu.Lock()
	if b.running || b.closed {
		b.mu.Unlock()
		return errors.New("frame bus: Run called twice")
	}
	b.running = true
	b.mu.Unlock()

	for {
		f, err := src.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				b.close(ErrClosed)
				return nil
			}
			err = fmt.Errorf("frame bus: %w", err)
			b.close(fmt.Errorf("%w: %w", ErrClosed, err))
			return err
		}
		b.publish(f)
	}
}

func (b *Bus) publish(f Frame) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.latest, b.hasLatest = f, true
	b.published++
	for s := range b.subs {
		s.offer(f)
	}
}

func (b *Bus) close(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed, b.closeErr = true, err
	for s := range b.subs {
		s.shut(err)
	}
	clear(b.subs)
}

// Published is the number of frames the bus has fanned out.
func (b *Bus) Published() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.published
}

// Subscription is one reader of a Bus. Its methods are safe for concurrent use.
type Subscription struct {
	bus   *Bus
	ready chan struct{} // holds one token when frame or closed changed

	mu      sync.Mutex
	frame   Frame
	fresh   bool // frame has not been returned by Next yet
	dropped uint64
	closed  bool
	err     error
}

// offer replaces the pending frame with f, counting the replaced one as dropped.
func (s *Subscription) offer(f Frame) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if s.fresh {
		s.dropped++
	}
	s.frame, s.fresh = f, true
	s.mu.Unlock()
	s.wake()
}

func (s *Subscription) shut(err error) {
	s.mu.Lock()
	if !s.closed {
		s.closed, s.err = true, err
	}
	s.mu.Unlock()
	s.wake()
}

func (s *Subscription) wake() {
	select {
	case s.ready <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// Next blocks until a frame newer than the last one returned is available and returns
// it. A pending frame is still delivered after the bus stops; then Next returns an
// error wrapping ErrClosed, or ctx's error if ctx ends first.
func (s *Subscription) Next(ctx context.Context) (Frame, error) {
	for {
		s.mu.Lock()
		if s.fresh {
			f := s.frame
			s.fresh = false
			s.mu.Unlock()
			return f, nil
		}
		if s.closed {
			err := s.err
			s.mu.Unlock()
			return Frame{}, err
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return Frame{}, ctx.Err()
		case <-s.ready:
		}
	}
}

// Dropped is the number of frames this subscriber never saw because a newer one
// replaced them before it called Next.
func (s *Subscription) Dropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Close unsubscribes. Pending frames are discarded; Next then returns ErrClosed.
func (s *Subscription) Close() {
	s.bus.mu.Lock()
	delete(s.bus.subs, s)
	s.bus.mu.Unlock()
	s.mu.Lock()
	s.fresh = false
	s.frame = Frame{}
	s.mu.Unlock()
	s.shut(ErrClosed)
}
