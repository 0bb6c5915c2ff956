package mail

import (
	"bytes"
	"context"
	"errors"
	"net/mail"
	"sync/atomic"
	"testing"
	"time"
)

// waitFor polls cond until it holds; it fails the test only if it never does.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 6000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("never happened: %s", what)
}

// messageIDs counts the messages a server accepted by Message-ID.
func messageIDs(t *testing.T, ts *testServer) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, r := range ts.messages() {
		m, err := mail.ReadMessage(bytes.NewReader(r.data))
		if err != nil {
			t.Fatal(err)
		}
		out[m.Header.Get("Message-ID")]++
	}
	return out
}

// TestLeaseRenewedWhileSending: a send that outlasts the lease (a relay slow to accept) keeps
// its mail, because the sending Worker renews the lease: a second Worker polling past the
// first lease claims nothing, and the mail goes out once.
func TestLeaseRenewedWhileSending(t *testing.T) {
	start := time.Date(2026, 1, 2, 7, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: start}
	started, hold := make(chan struct{}, 1), make(chan struct{})
	ts := startServer(t, serverOpts{dataStarted: started, dataHold: hold})
	m := queuedMail(1, start)
	q := newMemQueue(m)
	worker := func() *Worker {
		return &Worker{Queue: q, Now: clock.Now, Lease: 15 * time.Second, RenewEvery: 5 * time.Millisecond,
			Sender: &SMTPSender{Addr: ts.addr, From: "noreply@ikd.example", Host: "registry.ikd.example", Timeout: time.Minute}}
	}
	a, b := worker(), worker()
	type result struct {
		sent, failed int
		err          error
	}
	done := make(chan result, 1)
	go func() {
		sent, failed, err := a.RunOnce(context.Background())
		done <- result{sent, failed, err}
	}()
	<-started // a's message is at the relay, waiting for its reply
	clock.Advance(20 * time.Second)
	waitFor(t, "a renews its lease past the clock", func() bool {
		return q.get(m.ID).leaseUntil.Equal(clock.Now().Add(15 * time.Second))
	})
	if sent, failed, err := b.RunOnce(context.Background()); sent != 0 || failed != 0 || err != nil {
		t.Fatalf("b during a's send: sent %d failed %d, %v; want nothing claimed", sent, failed, err)
	}
	close(hold)
	if r := <-done; r.sent != 1 || r.failed != 0 || r.err != nil {
		t.Fatalf("a: %+v, want 1 sent", r)
	}
	if sent, _, err := b.RunOnce(context.Background()); sent != 0 || err != nil {
		t.Fatalf("b after a's send: sent %d, %v", sent, err)
	}
	if got := messageIDs(t, ts); len(got) != 1 || got[MessageID(m.ID, "registry.ikd.example")] != 1 {
		t.Errorf("relay got %v, want the mail once", got)
	}
	if it := q.get(m.ID); !it.sent || it.claims != 1 {
		t.Errorf("sent=%v claims=%d, want sent after one claim", it.sent, it.claims)
	}
}

// deadQueue is the queue as a killed process sees it: after kill nothing it does reaches the
// database.
type deadQueue struct {
	Queue
	dead atomic.Bool
}

var errKilled = errors.New("process killed")

func (q *deadQueue) Renew(ctx context.Context, ids []string, held, until time.Time) ([]string, error) {
	if q.dead.Load() {
		return nil, errKilled
	}
	return q.Queue.Renew(ctx, ids, held, until)
}

func (q *deadQueue) Sent(ctx context.Context, id string, at time.Time) error {
	if q.dead.Load() {
		return errKilled
	}
	return q.Queue.Sent(ctx, id, at)
}

func (q *deadQueue) Failed(ctx context.Context, id string, at, next time.Time, reason string, permanent bool) error {
	if q.dead.Load() {
		return errKilled
	}
	return q.Queue.Failed(ctx, id, at, next, reason, permanent)
}

// TestKilledWorkerDelaysMailByOneLease: a Worker that dies holding a claimed mail in the
// middle of its send delays it by one (short) lease: another Worker sends it over SMTP once
// the lease ends, and the dead Worker, its renewals failing, stops its send rather than
// overlap.
func TestKilledWorkerDelaysMailByOneLease(t *testing.T) {
	start := time.Date(2026, 1, 2, 7, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: start}
	ts := startServer(t, serverOpts{})
	m := queuedMail(1, start)
	q := newMemQueue(m)
	const lease = 15 * time.Second
	dq := &deadQueue{Queue: q}
	stuck := &fakeSender{block: true, seen: make(chan struct{}, 1)}
	a := &Worker{Queue: dq, Sender: stuck, Now: clock.Now, Lease: lease, RenewEvery: 5 * time.Millisecond}
	b := &Worker{Queue: q, Now: clock.Now, Lease: lease, RenewEvery: 5 * time.Millisecond,
		Sender: &SMTPSender{Addr: ts.addr, From: "noreply@ikd.example", Host: "registry.ikd.example", Timeout: time.Minute}}
	done := make(chan error, 1)
	go func() {
		_, _, err := a.RunOnce(context.Background())
		done <- err
	}()
	<-stuck.seen
	dq.dead.Store(true)

	clock.Advance(lease - time.Second)
	if sent, _, err := b.RunOnce(context.Background()); sent != 0 || err != nil {
		t.Fatalf("b within the lease: sent %d, %v", sent, err)
	}
	clock.Advance(time.Second)
	if err := <-done; err != nil {
		t.Fatalf("a: %v", err) // its send was cut short and nothing recorded
	}
	if sent, failed, err := b.RunOnce(context.Background()); sent != 1 || failed != 0 || err != nil {
		t.Fatalf("b at the end of the lease: sent %d failed %d, %v", sent, failed, err)
	}
	if got := messageIDs(t, ts); len(got) != 1 || got[MessageID(m.ID, "registry.ikd.example")] != 1 {
		t.Errorf("relay got %v, want the mail once", got)
	}
	if it := q.get(m.ID); !it.sent || it.claims != 2 || it.m.Attempts != 0 {
		t.Errorf("sent=%v claims=%d attempts=%d; want sent on the second claim, no failed attempt recorded",
			it.sent, it.claims, it.m.Attempts)
	}
}
