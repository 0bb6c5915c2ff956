package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Defaults for the zero fields of a Worker.
const (
	DefaultLease = 15 * time.Second
	// MinLease is the shortest lease a registry process is configured with: renewed every
	// third of it, a shorter one would be lost to a slow database round trip.
	MinLease           = 3 * time.Second
	DefaultBatch       = 10
	DefaultPoll        = 15 * time.Second
	DefaultMaxAttempts = 20
	// recordTimeout bounds Queue.Sent and Queue.Failed, which run even after ctx is
	// cancelled (see RunOnce).
	recordTimeout = 10 * time.Second
)

// Worker drains a Queue through a Sender. Several Workers, in one process or many, may share
// a Queue: the lease keeps them from sending a mail twice at the same time.
type Worker struct {
	Queue  Queue
	Sender Sender
	// Now is the clock for the queue's times; nil means time.Now. Polling in Run uses real
	// time whatever Now says.
	Now func() time.Time
	Log *slog.Logger // nil discards
	// Lease is how long a claimed mail is reserved for this Worker without renewal: what a
	// Worker that dies holding mails (a killed process) delays them by. While it works the
	// Worker renews the lease every RenewEvery, so a send may last longer than the lease; a
	// send whose lease cannot be kept is cancelled, and a mail whose lease was lost is left to
	// whoever claims it, so two Workers never send one mail at the same time.
	Lease time.Duration
	// RenewEvery is how often the lease is renewed; 0 means a third of Lease.
	RenewEvery time.Duration
	Batch      int // mails claimed per round; 0 means DefaultBatch
	// Poll is how long Run waits between rounds when the queue is empty; 0 means DefaultPoll.
	Poll time.Duration
	// Backoff is the delay before attempt+1 after attempt (1-based) failed; nil means capped
	// exponential with jitter, 30 s .. 1 h.
	Backoff func(attempt int) time.Duration
	// MaxAttempts is the number of failed attempts after which a mail is failed
	// permanently; 0 means DefaultMaxAttempts.
	MaxAttempts int
	// Observe, when set, is called once per send with "sent", "retry" or "permanent" (for
	// metrics). It must not block.
	Observe func(result string)

	kickOnce sync.Once
	kick     chan struct{}
}

// Kick wakes Run for a round now, for when a mail was just queued. It never blocks; kicks
// while a round is pending are merged.
func (w *Worker) Kick() {
	select {
	case w.kickCh() <- struct{}{}:
	default:
	}
}

func (w *Worker) kickCh() chan struct{} {
	w.kickOnce.Do(func() { w.kick = make(chan struct{}, 1) })
	return w.kick
}

// Run sends mails until ctx is done, then returns ctx's error. Errors of single rounds are
// logged and retried on the next poll.
func (w *Worker) Run(ctx context.Context) error {
	poll := w.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		case <-w.kickCh():
		}
		claimed, _, _, err := w.runOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.log().Error("mail round failed", "err", err)
		}
		next := poll
		if err == nil && claimed >= w.batch() {
			// A full batch suggests more mails are due: go on without waiting.
			next = 0
		}
		timer.Reset(next)
	}
}

// RunOnce claims one batch of due mails and tries to send each. sent and failed count the
// sends that succeeded and failed; err reports a queue that could not be read or updated.
// A failed send is not an error: it is recorded in the queue for a later attempt.
func (w *Worker) RunOnce(ctx context.Context) (sent, failed int, err error) {
	_, sent, failed, err = w.runOnce(ctx)
	return sent, failed, err
}

func (w *Worker) runOnce(ctx context.Context) (claimed, sent, failed int, err error) {
	if w.Queue == nil || w.Sender == nil {
		return 0, 0, 0, errors.New("mail worker: Queue and Sender must be set")
	}
	start := w.now()
	mails, err := w.Queue.Claim(ctx, start, w.lease(), w.batch())
	if err != nil {
		return 0, 0, 0, fmt.Errorf("claim mails: %w", err)
	}
	if len(mails) == 0 {
		return 0, 0, 0, nil
	}
	keeper := w.keepLease(ctx, mails, start.Add(w.lease()))
	defer keeper.Close()
	var errs []error
	for i, m := range mails {
		if ctx.Err() != nil {
			// The rest stay leased and come back when the lease ends.
			break
		}
		sctx, ok := keeper.begin(ctx, m.ID)
		if !ok {
			// Another Worker may claim it soon, or has: leave it to whoever does.
			w.log().Warn("mail lease lost or running out; leaving the mail", "mail", m.ID, "left", len(mails)-i)
			continue
		}
		sendErr := w.Sender.Send(sctx, m)
		if keeper.end(m.ID) && sendErr != nil {
			// The send was cut short because the lease was lost: the mail is another
			// Worker's now (or due again when the lease ends), and recording a failure
			// would take its lease away.
			failed++
			continue
		}
		// Recording the outcome must survive a cancelled ctx: a mail the server accepted but
		// the queue does not know about is sent again (see the package doc).
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		err := w.record(rctx, m, sendErr, ctx.Err() != nil)
		cancel()
		if sendErr == nil {
			sent++
		} else {
			failed++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return len(mails), sent, failed, errors.Join(errs...)
}

// record writes the outcome of one send to the queue. The log names mails by queue id only:
// the address is personal data and the code a credential.
func (w *Worker) record(ctx context.Context, m Mail, sendErr error, stopping bool) error {
	at := w.now()
	log := w.log().With("mail", m.ID, "attempt", m.Attempts+1)
	if sendErr == nil {
		w.observe("sent")
		if err := w.Queue.Sent(ctx, m.ID, at); err != nil {
			log.Error("mail delivered but not marked sent; it will be sent again", "err", err)
			return fmt.Errorf("mark mail %s sent: %w", m.ID, err)
		}
		log.Info("mail sent")
		return nil
	}

	attempt := m.Attempts + 1
	permanent := IsPermanent(sendErr)
	// The reason goes to the log and the queue, kept for the operator: no full address.
	reason := MaskAddresses(sendErr.Error())
	next := at
	switch {
	case permanent:
	case stopping:
		// Interrupted by shutdown, not by the server: due again at once, for any Worker.
		reason = "interrupted: " + reason
	case attempt >= w.maxAttempts():
		permanent = true
		reason = fmt.Sprintf("gave up after %d attempts: %s", attempt, reason)
	default:
		next = at.Add(w.backoff(attempt))
	}
	if permanent {
		w.observe("permanent")
		log.Error("mail failed permanently", "err", reason)
	} else {
		w.observe("retry")
		log.Warn("mail failed; will retry", "err", reason, "next", next)
	}
	if err := w.Queue.Failed(ctx, m.ID, at, next, reason, permanent); err != nil {
		// The lease runs out and the mail is claimed again: not lost, only retried sooner.
		return fmt.Errorf("record failure of mail %s: %w", m.ID, err)
	}
	return nil
}

func (w *Worker) backoff(attempt int) time.Duration {
	if w.Backoff != nil {
		return w.Backoff(attempt)
	}
	return DefaultBackoff(attempt)
}

// DefaultBackoff is 30 s doubled per attempt, capped at 1 h, with jitter that spreads the
// delay over its upper half so that mails failed together (a relay outage) do not all come
// back at once; it stays within 30 s .. 1 h.
func DefaultBackoff(attempt int) time.Duration {
	const lo, hi = 30 * time.Second, time.Hour
	d := hi
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 20 {
		d = min(lo<<(attempt-1), hi)
	}
	d = d/2 + rand.N(d/2+1)
	return max(d, lo)
}

func (w *Worker) observe(result string) {
	if w.Observe != nil {
		w.Observe(result)
	}
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (w *Worker) lease() time.Duration {
	if w.Lease > 0 {
		return w.Lease
	}
	return DefaultLease
}

func (w *Worker) renewEvery() time.Duration {
	if w.RenewEvery > 0 {
		return w.RenewEvery
	}
	return w.lease() / 3
}

func (w *Worker) batch() int {
	if w.Batch > 0 {
		return w.Batch
	}
	return DefaultBatch
}

func (w *Worker) maxAttempts() int {
	if w.MaxAttempts > 0 {
		return w.MaxAttempts
	}
	return DefaultMaxAttempts
}
