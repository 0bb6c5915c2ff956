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

// flakyQueue fails its first fails marks (Sent or Failed) with err; Claim fails with
// claimErr.
type flakyQueue struct {
	mail.Queue
	fails, calls  int
	err, claimErr error
}

func (q *flakyQueue) Sent(context.Context, string, time.Time) error { return q.call() }
func (q *flakyQueue) Failed(context.Context, string, time.Time, time.Time, string, bool) error {
	return q.call()
}

func (q *flakyQueue) Claim(context.Context, time.Time, time.Duration, int) ([]mail.Mail, error) {
	return nil, q.claimErr
}

func (q *flakyQueue) call() error {
	q.calls++
	if q.calls <= q.fails {
		return q.err
	}
	return nil
}

// countingSender counts the mails it was asked to deliver.
type countingSender struct{ sent int }

func (s *countingSender) Send(context.Context, mail.Mail) error {
	s.sent++
	return nil
}

func TestGuardMailRetriesMarks(t *testing.T) {
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
				q, _ := registry.GuardMail(fq, &countingSender{})
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

// A mark lost for good stops the sender until the database takes writes again.
func TestGuardMailHoldsSendsWhileMarksFail(t *testing.T) {
	down := errors.New("connect: connection refused")
	fq := &flakyQueue{fails: 1 << 30, err: down, claimErr: down}
	cs := &countingSender{}
	q, s := registry.GuardMail(fq, cs)
	ctx := context.Background()
	if err := s.Send(ctx, mail.Mail{ID: "m1"}); err != nil || cs.sent != 1 {
		t.Fatalf("first send: %v, %d sent", err, cs.sent)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if err := q.Sent(gone, "m1", time.Unix(0, 0)); !errors.Is(err, down) {
		t.Fatalf("mark with the database down: %v", err)
	}
	if err := s.Send(ctx, mail.Mail{ID: "m2"}); !errors.Is(err, registry.ErrMarksFailing) || mail.IsPermanent(err) || cs.sent != 1 {
		t.Fatalf("send after a lost mark: %v (permanent %v), %d sent", err, mail.IsPermanent(err), cs.sent)
	}
	if _, err := q.Claim(ctx, time.Unix(0, 0), time.Minute, 10); err == nil {
		t.Fatal("claim with the database down succeeded")
	}
	if err := s.Send(ctx, mail.Mail{ID: "m2"}); !errors.Is(err, registry.ErrMarksFailing) {
		t.Fatalf("send after a failed claim: %v", err)
	}
	fq.claimErr = nil // the database is back
	if _, err := q.Claim(ctx, time.Unix(0, 0), time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, mail.Mail{ID: "m2"}); err != nil || cs.sent != 2 {
		t.Fatalf("send after the database came back: %v, %d sent", err, cs.sent)
	}
}
