package camera

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Reopener is a Source that survives a camera being unplugged: when the current source
// fails it closes it and opens a new one, waiting with capped exponential backoff between
// attempts, until it delivers frames again or ctx ends. Frames are renumbered so Seq keeps
// rising across re-opens. Next and Close must not run concurrently.
type Reopener struct {
	// Open opens a fresh source, e.g. func(context.Context) (Source, error) { return OpenWebcam(cfg) }.
	Open func(ctx context.Context) (Source, error)
	// MinBackoff is the first wait after a failure (default 200ms); each further failure
	// doubles it up to MaxBackoff (default 5s). No jitter: one kiosk, one local device,
	// nothing to stampede.
	MinBackoff, MaxBackoff time.Duration
	// OnRetry, if set, is called before each wait with the failure, e.g. to show
	// "kamera terputus" in the preview.
	OnRetry func(err error, wait time.Duration)
	// OnState, if set, is called from Next when the state changes: ready at the first frame,
	// OpenState's answer when an open fails, lost when an open source fails, reconnecting
	// when it is opened again after a loss; err is the failure, nil for ready and reconnecting.
	OnState func(s State, err error)
	// Logger receives the failures; nil means slog.Default().
	Logger *slog.Logger

	cur      Source
	seq      uint64
	failures int
	state    State
}

var _ Source = (*Reopener)(nil)

const (
	defaultMinBackoff = 200 * time.Millisecond
	defaultMaxBackoff = 5 * time.Second
)

// Next returns the next frame, re-opening the source as often as needed. It returns
// only frames or ctx's error.
func (r *Reopener) Next(ctx context.Context) (Frame, error) {
	for {
		if err := ctx.Err(); err != nil {
			return Frame{}, err
		}
		if r.cur == nil {
			if r.state == StateLost {
				r.setState(StateReconnecting, nil)
			}
			src, err := r.Open(ctx)
			if err != nil {
				r.setState(OpenState(err), err)
				if err := r.backoff(ctx, err); err != nil {
					return Frame{}, err
				}
				continue
			}
			r.cur = src
		}
		f, err := r.cur.Next(ctx)
		if err == nil {
			r.failures = 0
			r.setState(StateReady, nil)
			r.seq++
			f.Seq = r.seq
			return f, nil
		}
		if ctx.Err() != nil {
			return Frame{}, ctx.Err()
		}
		if cerr := r.cur.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		r.cur = nil
		r.setState(StateLost, err)
		if err := r.backoff(ctx, err); err != nil {
			return Frame{}, err
		}
	}
}

func (r *Reopener) setState(s State, err error) {
	if s == r.state {
		return
	}
	r.state = s
	if r.OnState != nil {
		r.OnState(s, err)
	}
}

// backoff reports failure and waits before the next attempt; it returns ctx's error if
// ctx ends first.
func (r *Reopener) backoff(ctx context.Context, failure error) error {
	lo, hi := r.MinBackoff, r.MaxBackoff
	if lo <= 0 {
		lo = defaultMinBackoff
	}
	if hi <= 0 {
		hi = defaultMaxBackoff
	}
	hi = max(hi, lo)
	wait := lo
	for i := 0; i < r.failures && wait < hi; i++ {
		wait *= 2
	}
	wait = min(wait, hi)
	r.failures++

	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	log.Debug("camera unavailable, retrying", "err", failure, "attempt", r.failures, "wait", wait)
	if r.OnRetry != nil {
		r.OnRetry(failure, wait)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Close closes the current source, if any. It is safe to call more than once.
func (r *Reopener) Close() error {
	if r.cur == nil {
		return nil
	}
	err := r.cur.Close()
	r.cur = nil
	return err
}
