package registry

import (
	"context"
	"errors"
	gosync "sync"
	"time"

	"github.com/ikd-field/ikd/sync/registry/mail"
)

// Bounds of the waits between tries of a mark.
const (
	markRetryFirst = 100 * time.Millisecond
	markRetryMax   = time.Second
)

// ErrMarksFailing is what the guarded Sender answers, without sending, while the outcome of
// an earlier mail could not be recorded: the database is away (a failover, say).
var ErrMarksFailing = errors.New("mail not sent: the outcome of an earlier mail could not be recorded (database unavailable)")

// GuardMail couples the queue and the sender of one mail worker so that losing the database
// between a send and its mark sends as little as possible twice. The worker marks a mail sent
// right after the relay accepted it; when the database is failing over just then, the mark is
// lost and the mail goes out again when its lease ends (at-least-once, see package mail).
//
//   - Sent and Failed retry until their context ends instead of failing at the first error
//     (both are idempotent; ErrNotFound is final), so an outage shorter than the worker's
//     record timeout loses no mark.
//   - After a mark failed for good, the sender refuses (ErrMarksFailing, a temporary failure)
//     until a mark or a claim succeeds again: the rest of the worker's claimed batch waits
//     for its lease instead of being sent with marks that would be lost as well. At most the
//     one mail whose mark was lost is sent twice.
func GuardMail(q mail.Queue, s mail.Sender) (mail.Queue, mail.Sender) {
	g := &mailGuard{}
	return guardedQueue{Queue: q, g: g}, guardedSender{s: s, g: g}
}

type mailGuard struct {
	mu      gosync.Mutex
	failing bool
}

func (g *mailGuard) set(failing bool) {
	g.mu.Lock()
	g.failing = failing
	g.mu.Unlock()
}

func (g *mailGuard) isFailing() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.failing
}

type guardedQueue struct {
	mail.Queue
	g *mailGuard
}

func (q guardedQueue) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]mail.Mail, error) {
	ms, err := q.Queue.Claim(ctx, now, lease, limit)
	if err == nil {
		q.g.set(false) // the database takes writes again
	}
	return ms, err
}

func (q guardedQueue) Sent(ctx context.Context, id string, at time.Time) error {
	return q.mark(ctx, func() error { return q.Queue.Sent(ctx, id, at) })
}

func (q guardedQueue) Failed(ctx context.Context, id string, at, next time.Time, reason string, permanent bool) error {
	return q.mark(ctx, func() error { return q.Queue.Failed(ctx, id, at, next, reason, permanent) })
}

// mark runs fn until it succeeds, fails with ErrNotFound, or ctx ends (fn's last error).
func (q guardedQueue) mark(ctx context.Context, fn func() error) error {
	wait := markRetryFirst
	for {
		err := fn()
		if err == nil || errors.Is(err, ErrNotFound) {
			q.g.set(false)
			return err
		}
		select {
		case <-ctx.Done():
			q.g.set(true)
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, markRetryMax)
	}
}

type guardedSender struct {
	s mail.Sender
	g *mailGuard
}

func (s guardedSender) Send(ctx context.Context, m mail.Mail) error {
	if s.g.isFailing() {
		return ErrMarksFailing
	}
	return s.s.Send(ctx, m)
}
