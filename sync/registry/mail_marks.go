package registry

import (
	"context"
	"errors"
	"time"

	"github.com/ikd-field/ikd/sync/registry/mail"
)

// Bounds of RetryMarks' waits between tries.
const (
	markRetryFirst = 100 * time.Millisecond
	markRetryMax   = time.Second
)

// RetryMarks wraps q so that Sent and Failed retry until their context ends instead of
// failing at the first database error. The mail worker records a delivery right after the
// relay accepted it; when the database is failing over just then (a few seconds with
// pg_auto_failover), a single try loses the mark and the mail goes out a second time when its
// lease ends, and so would every mail the worker sends before the database is back. Retrying
// blocks the worker on the mark instead, so nothing more is sent until it is recorded. Both
// marks are idempotent; ErrNotFound is final.
func RetryMarks(q mail.Queue) mail.Queue { return retryMarks{q} }

type retryMarks struct{ mail.Queue }

func (r retryMarks) Sent(ctx context.Context, id string, at time.Time) error {
	return retry(ctx, func() error { return r.Queue.Sent(ctx, id, at) })
}

func (r retryMarks) Failed(ctx context.Context, id string, at, next time.Time, reason string, permanent bool) error {
	return retry(ctx, func() error { return r.Queue.Failed(ctx, id, at, next, reason, permanent) })
}

// retry runs fn until it succeeds, fails with ErrNotFound, or ctx ends (fn's last error).
func retry(ctx context.Context, fn func() error) error {
	wait := markRetryFirst
	for {
		err := fn()
		if err == nil || errors.Is(err, ErrNotFound) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, markRetryMax)
	}
}
