package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// memQueue is an in-memory Queue with the same lease semantics as the database tables.
type memQueue struct {
	mu       sync.Mutex
	order    []string
	items    map[string]*memItem
	claimErr error
	renewErr error
	sentErr  int // fail this many Sent calls
}

type memItem struct {
	m          Mail
	next       time.Time
	leaseUntil time.Time
	sent       bool
	permanent  bool
	reason     string
	claims     int
}

func newMemQueue(mails ...Mail) *memQueue {
	q := &memQueue{items: map[string]*memItem{}}
	for _, m := range mails {
		q.add(m)
	}
	return q
}

func (q *memQueue) add(m Mail) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.order = append(q.order, m.ID)
	q.items[m.ID] = &memItem{m: m, next: m.CreatedAt}
}

func (q *memQueue) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Mail, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.claimErr != nil {
		return nil, q.claimErr
	}
	var out []Mail
	for _, id := range q.order {
		if len(out) >= limit {
			break
		}
		it := q.items[id]
		if it.sent || it.permanent || it.next.After(now) || it.leaseUntil.After(now) {
			continue
		}
		it.leaseUntil = now.Add(lease)
		it.claims++
		out = append(out, it.m)
	}
	return out, nil
}

func (q *memQueue) Renew(ctx context.Context, ids []string, held, until time.Time) ([]string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.renewErr != nil {
		return nil, q.renewErr
	}
	var out []string
	for _, id := range ids {
		if it, ok := q.items[id]; ok && !it.sent && !it.permanent && it.leaseUntil.Equal(held) {
			it.leaseUntil = until
			out = append(out, id)
		}
	}
	return out, nil
}

func (q *memQueue) Sent(ctx context.Context, id string, at time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.sentErr > 0 {
		q.sentErr--
		return errors.New("database is locked")
	}
	it, ok := q.items[id]
	if !ok {
		return fmt.Errorf("no mail %s", id)
	}
	it.sent = true
	it.m.Code = ""
	it.leaseUntil = time.Time{}
	return nil
}

func (q *memQueue) Failed(ctx context.Context, id string, at, next time.Time, reason string, permanent bool) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	it, ok := q.items[id]
	if !ok {
		return fmt.Errorf("no mail %s", id)
	}
	it.m.Attempts++
	it.next = next
	it.leaseUntil = time.Time{}
	it.reason = reason
	it.permanent = permanent
	return nil
}

func (q *memQueue) get(id string) memItem {
	q.mu.Lock()
	defer q.mu.Unlock()
	return *q.items[id]
}

// fakeClock is the Worker's clock in tests; it moves only when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// observations records what a Worker reported to its metrics hook.
type observations struct {
	mu  sync.Mutex
	got []string
}

func (o *observations) Observe(r string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, r)
}

func (o *observations) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.got, ",")
}

func queuedMail(i int, created time.Time) Mail {
	m := testMail()
	m.ID = fmt.Sprintf("mail-%03d", i)
	m.To = fmt.Sprintf("warga%d@example.co.id", i)
	m.Code = fmt.Sprintf("%06d", 100000+i)
	m.CreatedAt = created
	m.ExpiresAt = created.Add(15 * time.Minute)
	return m
}

func TestWorkerSMTP(t *testing.T) {
	start := time.Date(2026, 1, 2, 7, 49, 0, 0, time.UTC)
	smtpErr := func(code int) error {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: "no"}
	}
	tests := []struct {
		name    string
		rcptErr func(n int) error
		// rounds: each is (clock advance before the round, want sent, want failed)
		rounds   [][3]int
		wantMsgs int
		wantObs  string
		check    func(t *testing.T, it memItem)
	}{
		{
			name:     "delivered first time",
			rounds:   [][3]int{{0, 1, 0}, {3600, 0, 0}},
			wantMsgs: 1,
			wantObs:  "sent",
			check: func(t *testing.T, it memItem) {
				if !it.sent || it.m.Code != "" {
					t.Errorf("sent=%v code=%q; want sent and the code forgotten", it.sent, it.m.Code)
				}
			},
		},
		{
			name: "451 then delivered",
			rcptErr: func(n int) error {
				if n == 1 {
					return smtpErr(451)
				}
				return nil
			},
			// Not due again at once; due after the backoff (at most 1 h).
			rounds:   [][3]int{{0, 0, 1}, {0, 0, 0}, {3600, 1, 0}, {3600, 0, 0}},
			wantMsgs: 1,
			wantObs:  "retry,sent",
			check: func(t *testing.T, it memItem) {
				if !it.sent || it.m.Attempts != 1 || it.claims != 2 {
					t.Errorf("sent=%v attempts=%d claims=%d; want sent after 1 failed attempt, 2 claims", it.sent, it.m.Attempts, it.claims)
				}
			},
		},
		{
			name:     "550 is permanent",
			rcptErr:  func(int) error { return smtpErr(550) },
			rounds:   [][3]int{{0, 0, 1}, {7200, 0, 0}},
			wantMsgs: 0,
			wantObs:  "permanent",
			check: func(t *testing.T, it memItem) {
				if !it.permanent || !strings.Contains(it.reason, "550") {
					t.Errorf("permanent=%v reason=%q; want permanent with the 550 kept", it.permanent, it.reason)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, serverOpts{rcptErr: tt.rcptErr})
			clock := &fakeClock{t: start}
			m := queuedMail(1, start)
			q := newMemQueue(m)
			var obs observations
			var failedAt time.Time
			w := &Worker{
				Queue:   q,
				Sender:  &SMTPSender{Addr: ts.addr, From: "noreply@ikd.example", Host: "registry.ikd.example", Timeout: 10 * time.Second},
				Now:     clock.Now,
				Observe: obs.Observe,
			}
			for i, r := range tt.rounds {
				clock.Advance(time.Duration(r[0]) * time.Second)
				sent, failed, err := w.RunOnce(context.Background())
				if err != nil {
					t.Fatalf("round %d: %v", i, err)
				}
				if sent != r[1] || failed != r[2] {
					t.Fatalf("round %d: sent %d failed %d, want %d %d", i, sent, failed, r[1], r[2])
				}
				if failed > 0 {
					failedAt = clock.Now()
					if it := q.get(m.ID); !it.permanent && !it.next.After(failedAt) {
						t.Errorf("round %d: next attempt %v not after now %v", i, it.next, failedAt)
					}
				}
			}
			if got := ts.messages(); len(got) != tt.wantMsgs {
				t.Errorf("server received %d messages, want %d", len(got), tt.wantMsgs)
			}
			if obs.String() != tt.wantObs {
				t.Errorf("observed %q, want %q", obs.String(), tt.wantObs)
			}
			tt.check(t, q.get(m.ID))
		})
	}
}

// fakeSender fails with err (nil: succeeds) and counts sends per mail.
type fakeSender struct {
	mu    sync.Mutex
	err   error
	sends map[string]int
	block bool          // wait for ctx instead
	seen  chan struct{} // signalled on each send
}

func (s *fakeSender) Send(ctx context.Context, m Mail) error {
	s.mu.Lock()
	if s.sends == nil {
		s.sends = map[string]int{}
	}
	s.sends[m.ID]++
	s.mu.Unlock()
	if s.seen != nil {
		select {
		case s.seen <- struct{}{}:
		default:
		}
	}
	if s.block {
		<-ctx.Done()
		return &SendError{Err: ctx.Err()}
	}
	return s.err
}

func (s *fakeSender) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sends[id]
}

func TestWorkerMaxAttempts(t *testing.T) {
	start := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: start}
	q := newMemQueue(queuedMail(1, start))
	var obs observations
	var backoffs []int
	w := &Worker{
		Queue: q, Sender: &fakeSender{err: errors.New("connection reset")}, Now: clock.Now,
		MaxAttempts: 3, Observe: obs.Observe,
		Backoff: func(a int) time.Duration { backoffs = append(backoffs, a); return time.Minute },
	}
	for i := 0; i < 5; i++ {
		if _, _, err := w.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
	}
	it := q.get("mail-001")
	if !it.permanent || it.m.Attempts != 3 || !strings.Contains(it.reason, "gave up after 3 attempts") {
		t.Errorf("permanent=%v attempts=%d reason=%q", it.permanent, it.m.Attempts, it.reason)
	}
	if fmt.Sprint(backoffs) != "[1 2]" {
		t.Errorf("Backoff called with %v, want [1 2]", backoffs)
	}
	if obs.String() != "retry,retry,permanent" {
		t.Errorf("observed %q", obs.String())
	}
}

// Queue errors never lose a mail: a failed Claim sends nothing, and a mail whose Sent failed
// is sent again when its lease ends, with the same Message-ID.
func TestWorkerQueueErrors(t *testing.T) {
	start := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	ts := startServer(t, serverOpts{})
	clock := &fakeClock{t: start}
	q := newMemQueue(queuedMail(1, start))
	w := &Worker{
		Queue: q, Now: clock.Now, Lease: time.Minute,
		Sender: &SMTPSender{Addr: ts.addr, From: "noreply@ikd.example", Host: "registry.ikd.example", Timeout: 10 * time.Second},
	}
	ctx := context.Background()

	q.claimErr = errors.New("connection refused")
	if sent, failed, err := w.RunOnce(ctx); err == nil || sent+failed != 0 || !strings.Contains(err.Error(), "claim mails") {
		t.Fatalf("RunOnce with a failing Claim = %d, %d, %v", sent, failed, err)
	}
	q.claimErr = nil

	q.sentErr = 1
	if sent, _, err := w.RunOnce(ctx); err == nil || sent != 1 || !strings.Contains(err.Error(), "mark mail mail-001 sent") {
		t.Fatalf("RunOnce with a failing Sent = %d, %v", sent, err)
	}
	// Still leased: nobody sends it again yet.
	if sent, _, err := w.RunOnce(ctx); err != nil || sent != 0 {
		t.Fatalf("RunOnce within the lease = %d, %v", sent, err)
	}
	clock.Advance(time.Minute)
	if sent, _, err := w.RunOnce(ctx); err != nil || sent != 1 {
		t.Fatalf("RunOnce after the lease = %d, %v", sent, err)
	}
	msgs := ts.messages()
	if len(msgs) != 2 {
		t.Fatalf("server received %d messages, want 2 (at-least-once)", len(msgs))
	}
	var ids []string
	for _, r := range msgs {
		m, err := mail.ReadMessage(bytes.NewReader(r.data))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.Header.Get("Message-ID"))
	}
	if ids[0] != ids[1] || ids[0] != "<mail-001@registry.ikd.example>" {
		t.Errorf("Message-IDs %q; want the same, derived from the queue id", ids)
	}
	if !q.get("mail-001").sent {
		t.Error("mail not marked sent")
	}
}

// Two Workers draining one queue concurrently send every mail exactly once.
func TestWorkersShareQueue(t *testing.T) {
	start := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	ts := startServer(t, serverOpts{})
	clock := &fakeClock{t: start}
	const n = 24
	q := newMemQueue()
	for i := range n {
		q.add(queuedMail(i, start))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		w := &Worker{
			Queue: q, Now: clock.Now, Batch: 3,
			Sender: &SMTPSender{Addr: ts.addr, From: "noreply@ikd.example", Host: "registry.ikd.example", Timeout: 10 * time.Second},
		}
		wg.Go(func() {
			// Bounded: 2*n rounds are more than enough for n mails.
			for range 2 * n {
				if _, failed, err := w.RunOnce(context.Background()); err != nil || failed != 0 {
					errs <- fmt.Errorf("RunOnce: failed %d, %v", failed, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	count := messageIDs(t, ts)
	var bad []string
	for i := range n {
		id := MessageID(fmt.Sprintf("mail-%03d", i), "registry.ikd.example")
		if count[id] != 1 {
			bad = append(bad, fmt.Sprintf("%s×%d", id, count[id]))
		}
		if !q.get(fmt.Sprintf("mail-%03d", i)).sent {
			bad = append(bad, id+" not marked sent")
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 || len(count) != n {
		t.Errorf("%d distinct messages, want %d; wrong: %v", len(count), n, bad)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	start := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: start}
	tests := []struct {
		name   string
		sender *fakeSender
		mails  int
	}{
		{"idle", &fakeSender{}, 0},
		{"during a send", &fakeSender{block: true, seen: make(chan struct{}, 1)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newMemQueue()
			for i := range tt.mails {
				q.add(queuedMail(i, start))
			}
			w := &Worker{Queue: q, Sender: tt.sender, Now: clock.Now, Poll: time.Hour}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			if tt.sender.seen != nil {
				<-tt.sender.seen // Run is inside Send now
			}
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Run() = %v, want context.Canceled", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Run did not return after ctx was cancelled")
			}
			if tt.mails > 0 {
				// The interrupted mail is recorded as due at once, not lost and not delayed.
				it := q.get("mail-000")
				if it.sent || it.permanent || it.next.After(clock.Now()) || !strings.HasPrefix(it.reason, "interrupted") {
					t.Errorf("interrupted mail: sent=%v permanent=%v next=%v reason=%q", it.sent, it.permanent, it.next, it.reason)
				}
			}
		})
	}
}

// Kick starts a round at once although the poll interval is an hour.
func TestRunKick(t *testing.T) {
	start := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: start}
	q := newMemQueue()
	s := &fakeSender{seen: make(chan struct{}, 1)}
	w := &Worker{Queue: q, Sender: s, Now: clock.Now, Poll: time.Hour}
	w.Kick() // before Run, and twice: never blocks
	w.Kick()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	q.add(queuedMail(7, start))
	// The mail may be sent by a round already under way or by the kicked one; keep kicking
	// until a round has seen it. Each wait is bounded, and the verdict is the send itself.
	deadline := time.After(30 * time.Second)
	for s.count("mail-007") == 0 {
		w.Kick()
		select {
		case <-s.seen:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatal("kicked Worker did not send the new mail")
		}
	}
	if s.count("mail-007") != 1 {
		t.Errorf("mail sent %d times", s.count("mail-007"))
	}
}

func TestDefaultBackoff(t *testing.T) {
	prevMax := time.Duration(0)
	for attempt := -1; attempt <= 40; attempt++ {
		hi := time.Duration(0)
		for range 200 {
			d := DefaultBackoff(attempt)
			if d < 30*time.Second || d > time.Hour {
				t.Fatalf("DefaultBackoff(%d) = %v, outside 30s..1h", attempt, d)
			}
			hi = max(hi, d)
		}
		if hi < prevMax/2 {
			t.Errorf("DefaultBackoff(%d) max %v shrank from %v", attempt, hi, prevMax)
		}
		prevMax = max(prevMax, hi)
	}
	if d := DefaultBackoff(1); d != 30*time.Second {
		t.Errorf("DefaultBackoff(1) = %v, want 30s", d)
	}
	if d := DefaultBackoff(30); d < 30*time.Minute {
		t.Errorf("DefaultBackoff(30) = %v, want near the 1h cap", d)
	}
}
