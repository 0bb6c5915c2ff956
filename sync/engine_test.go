package sync_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	stdsync "sync"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	ikdsync "github.com/ikd-field/ikd/sync"
)

var quiet = slog.New(slog.DiscardHandler)

// memStore is an in-memory kiosk.SyncStore with the store's contract: records in queue order,
// deactivations first in ToSend, the first answer stands, an unknown record fails the batch.
type memStore struct {
	mu      stdsync.Mutex
	recs    []kiosk.OutboxRecord
	cursor  string
	deltas  []kiosk.Delta
	anchors []time.Time
	applyFn func(kiosk.Delta) error // nil: accept
	head    kiosk.AuditHead
	halt    string
	reads   int // calls of ToSend
}

var _ kiosk.SyncStore = (*memStore)(nil)

func newMemStore(n int) *memStore {
	s := &memStore{}
	for i := range n {
		s.recs = append(s.recs, kiosk.OutboxRecord{ID: fmt.Sprintf("r%d", i+1), Kind: kiosk.KindActivation,
			Envelope: []byte(fmt.Sprintf("env-%d", i+1)), State: kiosk.RecordPending})
	}
	return s
}

func (s *memStore) ToSend(_ context.Context, limit int) ([]kiosk.OutboxRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	var out []kiosk.OutboxRecord
	for _, deact := range []bool{true, false} {
		for _, r := range s.recs {
			if len(out) < limit && (r.Kind == kiosk.KindDeactivation) == deact &&
				(r.State == kiosk.RecordPending || r.State == kiosk.RecordSent) {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

func (s *memStore) MarkSent(_ context.Context, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.recs {
		if slices.Contains(ids, s.recs[i].ID) && s.recs[i].State == kiosk.RecordPending {
			s.recs[i].State = kiosk.RecordSent
		}
	}
	return nil
}

func (s *memStore) RecordAnswers(_ context.Context, answers []kiosk.RecordAnswer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range answers {
		if !slices.ContainsFunc(s.recs, func(r kiosk.OutboxRecord) bool { return r.ID == a.ID }) {
			return fmt.Errorf("unknown record %s", a.ID)
		}
	}
	for _, a := range answers {
		for i := range s.recs {
			if r := &s.recs[i]; r.ID == a.ID && (r.State == kiosk.RecordPending || r.State == kiosk.RecordSent) {
				r.State, r.Answer = a.State, a.Reason
			}
		}
	}
	return nil
}

func (s *memStore) RecordCounts(context.Context) (map[kiosk.RecordState]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := map[kiosk.RecordState]int{}
	for _, r := range s.recs {
		c[r.State]++
	}
	return c, nil
}

func (s *memStore) SnapshotCursor(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor, nil
}

func (s *memStore) ApplyDelta(_ context.Context, d kiosk.Delta) (kiosk.DeltaCounts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.applyFn != nil {
		if err := s.applyFn(d); err != nil {
			return kiosk.DeltaCounts{}, err
		}
	}
	s.deltas = append(s.deltas, d)
	if d.Cursor != "" {
		s.cursor = d.Cursor
	}
	return kiosk.DeltaCounts{ResidentsAdded: len(d.Residents), ResidentsRemoved: len(d.Removed)}, nil
}

func (s *memStore) AnchorClock(_ context.Context, t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.anchors = append(s.anchors, t)
	return nil
}

func (s *memStore) AuditHead(context.Context) (kiosk.AuditHead, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head, nil
}

func (s *memStore) HaltSync(_ context.Context, code, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.halt = code
	return nil
}

func (s *memStore) SyncHalt(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.halt, nil
}

func (s *memStore) states() map[string]kiosk.OutboxRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]kiosk.OutboxRecord{}
	for _, r := range s.recs {
		m[r.ID] = r
	}
	return m
}

// fakeRegistry is a RegistryClient of function fields.
type fakeRegistry struct {
	push    func(envelopes [][]byte) (ikdsync.PushResponse, error)
	changes func(cursor string, limit int) (ikdsync.DeltaPage, error)
	heads   []*ikdsync.PushHead // the head of each push, in order
}

func (f *fakeRegistry) Push(_ context.Context, envelopes [][]byte, head *ikdsync.PushHead) (ikdsync.PushResponse, error) {
	f.heads = append(f.heads, head)
	return f.push(envelopes)
}

func (f *fakeRegistry) Changes(_ context.Context, cursor string, limit int) (ikdsync.DeltaPage, error) {
	return f.changes(cursor, limit)
}

// acceptAll answers every record accepted at registry time t.
func acceptAll(t time.Time) func([][]byte) (ikdsync.PushResponse, error) {
	return func(envs [][]byte) (ikdsync.PushResponse, error) {
		r := ikdsync.PushResponse{Time: t.UnixMilli()}
		for range envs {
			r.Answers = append(r.Answers, ikdsync.Answer{Status: ikdsync.StatusAccepted})
		}
		return r, nil
	}
}

func noChanges(cursor string, _ int) (ikdsync.DeltaPage, error) {
	return ikdsync.DeltaPage{Time: 1, Cursor: cursor}, nil
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu stdsync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func newEngine(t *testing.T, st kiosk.SyncStore, reg ikdsync.RegistryClient, edit func(*ikdsync.EngineConfig)) *ikdsync.Engine {
	t.Helper()
	clk := &fakeClock{t: t0}
	cfg := ikdsync.EngineConfig{Store: st, Client: reg, Log: quiet, Now: clk.Now, Rand: func() float64 { return 0.5 }}
	if edit != nil {
		edit(&cfg)
	}
	e, err := ikdsync.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestPushMapsAnswers(t *testing.T) {
	st := newMemStore(5)
	st.recs[3].Kind = kiosk.KindDeactivation
	regTime := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	var got [][]byte
	reg := &fakeRegistry{changes: noChanges, push: func(envs [][]byte) (ikdsync.PushResponse, error) {
		got = envs
		return ikdsync.PushResponse{Time: regTime.UnixMilli(), Answers: []ikdsync.Answer{
			{Status: ikdsync.StatusAccepted},  // r4, the deactivation, goes first
			{Status: ikdsync.StatusDuplicate}, // r1
			{Status: ikdsync.StatusRejected, Code: "activation.duplicate", Winner: "r-winner"}, // r2
			{Status: ikdsync.StatusRejected, Code: "activation.registration_revoked"},          // r3
			{Status: ikdsync.StatusRejected, Code: "future.code"},                              // r5
		}}, nil
	}}
	e := newEngine(t, st, reg, nil)
	res, err := e.Round(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"env-4", "env-1", "env-2", "env-3", "env-5"}; fmt.Sprintf("%s", got) != fmt.Sprintf("%s", want) {
		t.Errorf("pushed %s, want %s", got, want)
	}
	if res.Push != (ikdsync.PushResult{Sent: 5, Acknowledged: 2, Rejected: 3}) {
		t.Errorf("push result %+v", res.Push)
	}
	s := st.states()
	for id, want := range map[string]kiosk.RecordAnswer{
		"r4": {State: kiosk.RecordAcknowledged},
		"r1": {State: kiosk.RecordAcknowledged},
		"r2": {State: kiosk.RecordRejected, Reason: "activation.duplicate: " + ikdsync.ErrDuplicateActivation.Msg.ID + " (catatan r-winner)"},
		"r3": {State: kiosk.RecordRejected, Reason: "activation.registration_revoked: " + ikdsync.ErrRegistrationRevoked.Msg.ID},
		"r5": {State: kiosk.RecordRejected, Reason: "future.code: " + ikdsync.ErrUnknownCode.Msg.ID},
	} {
		if s[id].State != want.State || s[id].Answer != want.Reason {
			t.Errorf("%s: %s %q, want %s %q", id, s[id].State, s[id].Answer, want.State, want.Reason)
		}
	}
	if len(st.anchors) == 0 || !st.anchors[0].Equal(regTime) {
		t.Errorf("clock anchors %v, want %v first", st.anchors, regTime)
	}
	if p := e.Status().Pending; p != 0 {
		t.Errorf("pending = %d after every record was answered", p)
	}
}

// TestPushReadsTheOutboxOnceForManyBatches: the store checks every outbox row on each read,
// so a long drain must not read it once a batch (that made the drain quadratic).
func TestPushReadsTheOutboxOnceForManyBatches(t *testing.T) {
	st := newMemStore(1050)
	var batches []int
	var pushed []string
	reg := &fakeRegistry{changes: noChanges, push: func(envs [][]byte) (ikdsync.PushResponse, error) {
		batches = append(batches, len(envs))
		for _, e := range envs {
			pushed = append(pushed, string(e))
		}
		return acceptAll(t0)(envs)
	}}
	e := newEngine(t, st, reg, func(c *ikdsync.EngineConfig) { c.Batch = 10 })
	res, err := e.Round(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Push.Acknowledged != 1050 || len(batches) != 105 || slices.Max(batches) != 10 {
		t.Fatalf("acknowledged %d in %d batches of at most %d, want 1050 in 105 of 10", res.Push.Acknowledged, len(batches), slices.Max(batches))
	}
	for i, env := range pushed {
		if want := fmt.Sprintf("env-%d", i+1); env != want {
			t.Fatalf("push %d sent %s, want %s: the queue order is lost", i, env, want)
		}
	}
	// 500 records a read (50 batches), then 500, then the last 50.
	if st.reads != 3 {
		t.Errorf("the outbox was read %d times for 105 batches, want 3", st.reads)
	}
}

// TestRejectedDoesNotBlockOthers pushes in batches of 2; the registry rejects every first
// record of a batch, and every record still gets its answer.
func TestRejectedDoesNotBlockOthers(t *testing.T) {
	st := newMemStore(5)
	calls := 0
	reg := &fakeRegistry{changes: noChanges, push: func(envs [][]byte) (ikdsync.PushResponse, error) {
		calls++
		r := ikdsync.PushResponse{Time: t0.UnixMilli()}
		for i := range envs {
			a := ikdsync.Answer{Status: ikdsync.StatusAccepted}
			if i == 0 {
				a = ikdsync.Answer{Status: ikdsync.StatusRejected, Code: "record.malformed"}
			}
			r.Answers = append(r.Answers, a)
		}
		return r, nil
	}}
	e := newEngine(t, st, reg, func(c *ikdsync.EngineConfig) { c.Batch = 2 })
	res, err := e.Round(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if calls != 3 || res.Push != (ikdsync.PushResult{Sent: 5, Acknowledged: 2, Rejected: 3}) {
		t.Errorf("%d pushes, result %+v; want 3 pushes, 2 acknowledged, 3 rejected", calls, res.Push)
	}
	for id, r := range st.states() {
		if r.State != kiosk.RecordAcknowledged && r.State != kiosk.RecordRejected {
			t.Errorf("%s left %s", id, r.State)
		}
	}
}

func TestPullAppliesPagesUntilNoMore(t *testing.T) {
	st := newMemStore(0)
	st.cursor = "c0"
	var asked []string
	pages := map[string]ikdsync.DeltaPage{
		"c0": {Time: 10, Cursor: "c1", More: true, Residents: []ikdsync.ResidentChange{{NIK: "3201014501900001", Removed: true}}},
		"c1": {Time: 20, Cursor: "c2", More: true},
		"c2": {Time: 30, Cursor: "c3"},
	}
	reg := &fakeRegistry{push: acceptAll(t0), changes: func(cursor string, limit int) (ikdsync.DeltaPage, error) {
		asked = append(asked, fmt.Sprintf("%s/%d", cursor, limit))
		return pages[cursor], nil
	}}
	e := newEngine(t, st, reg, func(c *ikdsync.EngineConfig) { c.PageLimit = 500 })
	res, err := e.Round(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c0/500", "c1/500", "c2/500"}; !slices.Equal(asked, want) {
		t.Errorf("asked %v, want %v", asked, want)
	}
	if res.Pull.Pages != 3 || res.Pull.Counts.ResidentsRemoved != 1 || st.cursor != "c3" || len(st.deltas) != 3 {
		t.Errorf("pull %+v, cursor %q, %d deltas", res.Pull, st.cursor, len(st.deltas))
	}
	if n := len(st.anchors); n != 3 || !st.anchors[2].Equal(time.UnixMilli(30).UTC()) {
		t.Errorf("anchors %v", st.anchors)
	}

	t.Run("MoreWithoutNewCursor", func(t *testing.T) {
		st := newMemStore(0)
		reg := &fakeRegistry{push: acceptAll(t0), changes: func(cursor string, _ int) (ikdsync.DeltaPage, error) {
			return ikdsync.DeltaPage{Cursor: cursor, More: true}, nil
		}}
		_, err := newEngine(t, st, reg, nil).Round(context.Background())
		if !errors.Is(err, ikdsync.ErrRegistryAnswer) {
			t.Errorf("err = %v, want ErrRegistryAnswer", err)
		}
	})
	t.Run("MalformedPageAppliesNothing", func(t *testing.T) {
		st := newMemStore(0)
		reg := &fakeRegistry{push: acceptAll(t0), changes: func(string, int) (ikdsync.DeltaPage, error) {
			return ikdsync.DeltaPage{Cursor: "x", Residents: []ikdsync.ResidentChange{{NIK: "12"}}}, nil
		}}
		e := newEngine(t, st, reg, nil)
		_, err := e.Round(context.Background())
		if !errors.Is(err, ikdsync.ErrRegistryAnswer) || !errors.Is(err, ikdsync.ErrMessageMalformed) || len(st.deltas) != 0 {
			t.Errorf("err = %v, %d deltas applied", err, len(st.deltas))
		}
		if c := e.Status().Pull.LastError; c == nil || c.Code != ikdsync.ErrRegistryAnswer.Code {
			t.Errorf("pull status error %v", c)
		}
	})
}

// TestLanesAreIndependent: one lane failing leaves the other's success standing, both ways.
func TestLanesAreIndependent(t *testing.T) {
	down := ikdsync.ErrRegistryUnavailable.With(errors.New("dial tcp: no route to host"))
	t.Run("PullFails", func(t *testing.T) {
		st := newMemStore(2)
		reg := &fakeRegistry{push: acceptAll(t0), changes: func(string, int) (ikdsync.DeltaPage, error) {
			return ikdsync.DeltaPage{}, down
		}}
		e := newEngine(t, st, reg, nil)
		res, err := e.Round(context.Background())
		if res.PushErr != nil || !errors.Is(err, ikdsync.ErrRegistryUnavailable) || res.Push.Acknowledged != 2 {
			t.Fatalf("round %+v, %v", res, err)
		}
		s := e.Status()
		if s.Push.LastError != nil || s.Push.LastSuccess.IsZero() || s.Push.Failures != 0 {
			t.Errorf("push status %+v, want success", s.Push)
		}
		if s.Pull.LastError == nil || s.Pull.LastError.Code != "sync.unavailable" || s.Pull.Failures != 1 || !s.Pull.LastSuccess.IsZero() {
			t.Errorf("pull status %+v, want sync.unavailable", s.Pull)
		}
	})
	t.Run("PushFails", func(t *testing.T) {
		st := newMemStore(2)
		reg := &fakeRegistry{changes: noChanges, push: func([][]byte) (ikdsync.PushResponse, error) {
			return ikdsync.PushResponse{}, ikdsync.ErrClockSkew.With(errors.New("HTTP 401"))
		}}
		e := newEngine(t, st, reg, nil)
		res, _ := e.Round(context.Background())
		if res.PullErr != nil || res.Pull.Pages != 1 {
			t.Fatalf("pull %+v, %v", res.Pull, res.PullErr)
		}
		s := e.Status()
		if s.Pull.LastError != nil || s.Pull.LastSuccess.IsZero() {
			t.Errorf("pull status %+v, want success", s.Pull)
		}
		if s.Push.LastError == nil || s.Push.LastError.Code != "auth.clock_skew" || s.Push.Failures != 1 {
			t.Errorf("push status %+v, want auth.clock_skew", s.Push)
		}
		if s.Pending != 2 {
			t.Errorf("pending = %d, want 2", s.Pending)
		}
		for id, r := range st.states() {
			if r.State != kiosk.RecordSent {
				t.Errorf("%s is %s, want sent (unanswered)", id, r.State)
			}
		}
	})
}

// TestBackoffGrowsAndIsCapped drives failures with a fixed clock and jitter: the wait doubles
// from MinBackoff up to MaxBackoff (times the jitter), and a success resets it.
func TestBackoffGrowsAndIsCapped(t *testing.T) {
	clk := &fakeClock{t: t0}
	jitter := 1.0 - 1e-9
	failing := true
	reg := &fakeRegistry{push: acceptAll(t0), changes: func(c string, l int) (ikdsync.DeltaPage, error) {
		if failing {
			return ikdsync.DeltaPage{}, ikdsync.ErrRegistryUnavailable
		}
		return noChanges(c, l)
	}}
	e := newEngine(t, newMemStore(0), reg, func(c *ikdsync.EngineConfig) {
		c.Now, c.Rand = clk.Now, func() float64 { return jitter }
		c.MinBackoff, c.MaxBackoff = 5*time.Second, time.Minute
	})
	ctx := context.Background()
	want := []time.Duration{5, 10, 20, 40, 60, 60, 60}
	for i, w := range want {
		now := t0.Add(time.Duration(i) * time.Hour)
		clk.Set(now)
		e.Pull(ctx)
		s := e.Status().Pull
		got := s.NextAttempt.Sub(now)
		if d := got - w*time.Second; d > time.Millisecond || d < -time.Millisecond || s.Failures != i+1 {
			t.Errorf("failure %d: wait %s, failures %d; want %ds", i+1, got, s.Failures, w)
		}
	}
	jitter = 0.25
	clk.Set(t0.Add(10 * time.Hour))
	e.Pull(ctx)
	if got := e.Status().Pull.NextAttempt.Sub(t0.Add(10 * time.Hour)); got != 15*time.Second {
		t.Errorf("jittered capped wait %s, want 15s", got)
	}
	jitter = 0
	e.Pull(ctx)
	if got := e.Status().Pull.NextAttempt.Sub(t0.Add(10 * time.Hour)); got != time.Second {
		t.Errorf("zero jitter wait %s, want the 1s floor", got)
	}
	failing = false
	e.Pull(ctx)
	if s := e.Status().Pull; s.Failures != 0 || s.LastError != nil || !s.LastSuccess.Equal(t0.Add(10*time.Hour)) {
		t.Errorf("after success: %+v", s)
	}
	failing = true
	e.Pull(ctx)
	if got := e.Status().Pull.NextAttempt.Sub(t0.Add(10 * time.Hour)); got != time.Second {
		// jitter 0 again: the floor, but a first failure again
		t.Errorf("wait %s", got)
	}
	if s := e.Status().Pull; s.Failures != 1 {
		t.Errorf("failures after reset = %d, want 1", s.Failures)
	}
}

// TestRunStopsOnCancel: Run pushes at once, wakes on SyncNow, and returns when ctx ends.
func TestRunStopsOnCancel(t *testing.T) {
	st := newMemStore(1)
	pushed := make(chan struct{}, 10)
	reg := &fakeRegistry{changes: noChanges, push: func(envs [][]byte) (ikdsync.PushResponse, error) {
		pushed <- struct{}{}
		return acceptAll(t0)(envs)
	}}
	e := newEngine(t, st, reg, func(c *ikdsync.EngineConfig) { c.Now = time.Now })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	select {
	case <-pushed:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not push")
	}
	st.mu.Lock()
	st.recs = append(st.recs, kiosk.OutboxRecord{ID: "late", Kind: kiosk.KindDeactivation, Envelope: []byte("x"), State: kiosk.RecordPending})
	st.mu.Unlock()
	e.SyncNow()
	e.SyncNow() // never blocks
	select {
	case <-pushed:
	case <-time.After(10 * time.Second):
		t.Fatal("SyncNow did not wake the push lane")
	}
	_ = e.Status() // concurrent read, for -race
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
	if r := st.states()["late"]; r.State != kiosk.RecordAcknowledged {
		t.Errorf("late record %s", r.State)
	}
}

// TestAuditRollbackIsTheLanesError: a checkpoint the registry answers with audit.rollback is
// stored as rejected like any record, the others go through, and the push lane reports the
// rollback so the home screen shows it.
func TestAuditRollbackIsTheLanesError(t *testing.T) {
	st := newMemStore(3)
	reg := &fakeRegistry{changes: noChanges, push: func(envs [][]byte) (ikdsync.PushResponse, error) {
		r := ikdsync.PushResponse{Time: t0.UnixMilli()}
		for i := range envs {
			a := ikdsync.Answer{Status: ikdsync.StatusAccepted}
			if i == 1 {
				a = ikdsync.Answer{Status: ikdsync.StatusRejected, Code: ikdsync.ErrAuditRollback.Code}
			}
			r.Answers = append(r.Answers, a)
		}
		return r, nil
	}}
	e := newEngine(t, st, reg, nil)
	res, _ := e.Round(context.Background())
	if !errors.Is(res.PushErr, ikdsync.ErrAuditRollback) || res.Push.Acknowledged != 2 || res.Push.Rejected != 1 {
		t.Fatalf("push %+v, error %v; want 2 acknowledged, 1 rejected, audit.rollback", res.Push, res.PushErr)
	}
	if got := e.Status().Push.LastError; got == nil || got.Code != ikdsync.ErrAuditRollback.Code {
		t.Fatalf("push lane status error %v, want audit.rollback", got)
	}
}

// TestPushRefusedForHeadHaltsPushes: the registry refuses a push for the audit head it
// carries; the engine records the halt, keeps every record unanswered and pushes nothing more,
// also from a new engine on the same store (a restart).
func TestPushRefusedForHeadHaltsPushes(t *testing.T) {
	st := newMemStore(2)
	st.head = kiosk.AuditHead{AuditSeq: 7, AuditHash: []byte("h7"), OutboxSeq: 2}
	refusal := ikdsync.ErrAuditRollback.With(errors.New("HTTP 409"))
	reg := &fakeRegistry{changes: noChanges, push: func([][]byte) (ikdsync.PushResponse, error) {
		return ikdsync.PushResponse{}, refusal
	}}
	e := newEngine(t, st, reg, nil)
	if _, err := e.Push(context.Background()); !errors.Is(err, ikdsync.ErrAuditRollback) {
		t.Fatalf("push error %v, want audit.rollback", err)
	}
	if len(reg.heads) != 1 || reg.heads[0] == nil || reg.heads[0].AuditSeq != 7 || string(reg.heads[0].AuditHash) != "h7" || reg.heads[0].OutboxSeq != 2 {
		t.Fatalf("heads sent %+v, want the store's head once", reg.heads)
	}
	if st.halt != ikdsync.ErrAuditRollback.Code {
		t.Fatalf("store halt %q, want %q", st.halt, ikdsync.ErrAuditRollback.Code)
	}
	for id, r := range st.states() {
		if r.State != kiosk.RecordSent {
			t.Errorf("%s: %s after the refusal, want sent (still to be answered)", id, r.State)
		}
	}
	for _, eng := range []*ikdsync.Engine{e, newEngine(t, st, reg, nil)} {
		if _, err := eng.Push(context.Background()); !errors.Is(err, ikdsync.ErrAuditRollback) {
			t.Errorf("push while halted: error %v, want audit.rollback", err)
		}
		if h := eng.Status().Halted; h == nil || h.Code != ikdsync.ErrAuditRollback.Code {
			t.Errorf("status halted %v, want audit.rollback", h)
		}
	}
	if len(reg.heads) != 1 {
		t.Errorf("%d pushes reached the registry, want 1: pushes must stop once halted", len(reg.heads))
	}
}
