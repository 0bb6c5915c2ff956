package registry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/mail"
)

// flakyQueue fails its first fails calls of Sent and Failed with err.
type flakyQueue struct {
	mail.Queue
	fails, calls int
	err          error
}

func (q *flakyQueue) Sent(context.Context, string, time.Time) error { return q.call() }
func (q *flakyQueue) Failed(context.Context, string, time.Time, time.Time, string, bool) error {
	return q.call()
}

func (q *flakyQueue) call() error {
	q.calls++
	if q.calls <= q.fails {
		return q.err
	}
	return nil
}

func TestRetryMarks(t *testing.T) {
	down := errors.New("connect: connection refused")
	notFound := fmt.Errorf("mail sent m1: %w", registry.ErrNotFound)
	tests := []struct {
		name      string
		fails     int
		err       error
		cancelled bool
		wantCalls int
		wantErr   error
	}{
		{"first try", 0, nil, false, 1, nil},
		{"database back after a failover", 3, down, false, 4, nil},
		{"unknown mail is final", 5, notFound, false, 1, registry.ErrNotFound},
		{"context ended: the last error", 1000, down, true, 1, down},
	}
	for _, tt := range tests {
		for _, mark := range []string{"Sent", "Failed"} {
			t.Run(tt.name+"/"+mark, func(t *testing.T) {
				fq := &flakyQueue{fails: tt.fails, err: tt.err}
				q := registry.RetryMarks(fq)
				ctx, cancel := context.WithCancel(context.Background())
				if tt.cancelled {
					cancel()
				}
				defer cancel()
				var err error
				if mark == "Sent" {
					err = q.Sent(ctx, "m1", time.Unix(0, 0))
				} else {
					err = q.Failed(ctx, "m1", time.Unix(0, 0), time.Unix(1, 0), "451 try later", false)
				}
				if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
				if fq.calls != tt.wantCalls {
					t.Errorf("%d calls, want %d", fq.calls, tt.wantCalls)
				}
			})
		}
	}
}
