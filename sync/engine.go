package sync

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	stdsync "sync"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// The engine keeps the kiosk and the registry in step whenever a link exists. It has two
// lanes that never wait for each other: push (outbox records to the registry) and pull
// (registry changes to the local snapshot). A failing pull must not hold back a deactivation,
// and a push the registry refuses must not keep the officer list stale. Each lane retries with
// its own capped exponential backoff with full jitter, so a fleet of kiosks coming back after
// an outage does not hit the registry in step.

// RegistryClient is what the engine needs from the registry; *Client implements it.
type RegistryClient interface {
	Push(ctx context.Context, envelopes [][]byte, head *PushHead) (PushResponse, error)
	Changes(ctx context.Context, cursor string, limit int) (DeltaPage, error)
}

var _ RegistryClient = (*Client)(nil)

// ErrSyncFailed is the status of a lane that failed for a reason that is no *kiosk.Error
// (a local database error, for instance); the cause is in the log.
var ErrSyncFailed = &kiosk.Error{Code: "sync.failed", Msg: kiosk.Message{
	ID: "Sinkronisasi gagal karena kesalahan di kiosk; data tetap aman. Jika berulang, hubungi petugas TI.",
	EN: "Sync failed because of an error on the kiosk; the data is safe. If it keeps happening, contact IT support."}}

// Engine defaults.
const (
	DefaultBatch      = 200
	DefaultMinBackoff = 5 * time.Second
	DefaultMaxBackoff = 10 * time.Minute
	DefaultPushEvery  = time.Minute
	DefaultPullEvery  = 5 * time.Minute
	// minRetry is the shortest wait after a failure whatever the jitter drew, so an answer
	// that fails at once cannot spin the lane.
	minRetry = time.Second
	// maxPagesPerRound bounds one pull, against a registry that hands out cursors in a circle.
	maxPagesPerRound = 10000
	// readAheadBatches is how many batches one outbox read serves: 10,000 records of a few
	// hundred bytes at the default batch; a deactivation queued meanwhile waits for them.
	readAheadBatches = 50
)

// EngineConfig configures NewEngine. Store and Client are required.
type EngineConfig struct {
	Store     kiosk.SyncStore
	Client    RegistryClient
	Log       *slog.Logger // nil: slog.Default()
	Batch     int          // records a push; default DefaultBatch, at most MaxBatch
	PageLimit int          // changes a pull page; 0: the registry's default
	// MinBackoff and MaxBackoff bound the wait after consecutive failures; defaults
	// DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// PushEvery and PullEvery are the waits after a successful lane; defaults DefaultPushEvery
	// and DefaultPullEvery. SyncNow cuts them short.
	PushEvery, PullEvery time.Duration
	Rand                 func() float64   // jitter in [0, 1); nil: math/rand/v2
	Now                  func() time.Time // for the status; nil: time.Now
}

// LaneStatus is what the UI shows of one lane.
type LaneStatus struct {
	LastSuccess time.Time
	LastError   *kiosk.Error // nil after a success
	Failures    int          // consecutive
	NextAttempt time.Time
}

// EngineStatus is a snapshot of the engine's state.
type EngineStatus struct {
	Push, Pull LaneStatus
	Pending    int // records the registry has not answered (pending and sent)
	// Halted is the registry's refusal that stopped pushes (ErrAuditRollback), nil if none.
	Halted *kiosk.Error
}

// PushResult reports one push lane run.
type PushResult struct {
	Sent, Acknowledged, Rejected int
}

// PullResult reports one pull lane run.
type PullResult struct {
	Pages  int
	Counts kiosk.DeltaCounts // summed over the pages
}

// RoundResult reports one round of both lanes; PushErr and PullErr are each lane's error.
type RoundResult struct {
	Push             PushResult
	Pull             PullResult
	PushErr, PullErr error
}

// Engine runs the sync lanes. Its methods are safe for concurrent use.
type Engine struct {
	cfg        EngineConfig
	log        *slog.Logger
	push, pull *lane

	mu      stdsync.Mutex // guards status
	pending int
	halt    *kiosk.Error
}

// lane is one lane's schedule and status. run serialises the lane: Round and Run may both
// want it, and one lane never runs twice at once.
type lane struct {
	name string
	wake chan struct{}
	run  stdsync.Mutex

	mu     stdsync.Mutex
	status LaneStatus
}

// NewEngine returns an engine; nothing runs until Run or Round.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	if cfg.Store == nil || cfg.Client == nil {
		return nil, errors.New("sync engine: Store and Client are required")
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	cfg.Batch = min(cfg.Batch, MaxBatch)
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.MinBackoff)
	if cfg.PushEvery <= 0 {
		cfg.PushEvery = DefaultPushEvery
	}
	if cfg.PullEvery <= 0 {
		cfg.PullEvery = DefaultPullEvery
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	return &Engine{cfg: cfg, log: log.With("component", "sync"),
		push: &lane{name: "push", wake: make(chan struct{}, 1)},
		pull: &lane{name: "pull", wake: make(chan struct{}, 1)}}, nil
}

// Run runs both lanes, each on its own goroutine, until ctx is done, and returns ctx's error
// once both have stopped. The first attempt of each lane is at once.
func (e *Engine) Run(ctx context.Context) error {
	e.refreshPending(ctx)
	var wg stdsync.WaitGroup
	wg.Go(func() {
		e.loop(ctx, e.push, e.cfg.PushEvery, func(ctx context.Context) error { _, err := e.Push(ctx); return err })
	})
	wg.Go(func() {
		e.loop(ctx, e.pull, e.cfg.PullEvery, func(ctx context.Context) error { _, err := e.Pull(ctx); return err })
	})
	wg.Wait()
	return ctx.Err()
}

func (e *Engine) loop(ctx context.Context, l *lane, every time.Duration, run func(context.Context) error) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-l.wake:
		}
		err := run(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := every
		if err != nil {
			wait = l.snapshot().NextAttempt.Sub(e.cfg.Now())
		} else {
			l.setNext(e.cfg.Now().Add(every))
		}
		timer.Reset(max(wait, 0))
	}
}

// SyncNow wakes both lanes for an attempt now, cutting short a wait or a backoff (the officer
// asked, or a record was queued). It never blocks; wakes while a lane runs coalesce into one.
func (e *Engine) SyncNow() {
	for _, l := range []*lane{e.push, e.pull} {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// Round runs the push lane and then the pull lane once, synchronously, whatever their backoff
// says (an operator asked), and returns what each did. Its error joins the lanes' errors; one
// lane failing does not skip the other. Status reflects the round as it does Run's attempts.
func (e *Engine) Round(ctx context.Context) (RoundResult, error) {
	var r RoundResult
	r.Push, r.PushErr = e.Push(ctx)
	r.Pull, r.PullErr = e.Pull(ctx)
	return r, errors.Join(r.PushErr, r.PullErr)
}

// Status returns a copy of the engine's state; it never waits for a lane to finish.
func (e *Engine) Status() EngineStatus {
	e.mu.Lock()
	p, h := e.pending, e.halt
	e.mu.Unlock()
	return EngineStatus{Push: e.push.snapshot(), Pull: e.pull.snapshot(), Pending: p, Halted: h}
}

func (l *lane) snapshot() LaneStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status
}

func (l *lane) setNext(t time.Time) {
	l.mu.Lock()
	l.status.NextAttempt = t
	l.mu.Unlock()
}

// finish records a lane's outcome: success resets the backoff; a failure schedules the next
// attempt after a full-jitter wait whose ceiling doubles with each failure up to MaxBackoff.
// A run cut short by its context is not a failure of the registry and changes nothing.
func (e *Engine) finish(ctx context.Context, l *lane, err error) {
	if err != nil && ctx.Err() != nil {
		return
	}
	now := e.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		l.status = LaneStatus{LastSuccess: now, NextAttempt: l.status.NextAttempt}
		return
	}
	l.status.Failures++
	l.status.LastError = officerError(err)
	l.status.NextAttempt = now.Add(e.backoff(l.status.Failures))
	e.log.Warn("sync lane failed", "lane", l.name, "failures", l.status.Failures, "code", l.status.LastError.Code,
		"retry_at", l.status.NextAttempt, "err", err)
}

// backoff is the wait after the n-th consecutive failure.
func (e *Engine) backoff(n int) time.Duration {
	ceiling := e.cfg.MaxBackoff
	if n-1 < 32 {
		if c := e.cfg.MinBackoff << (n - 1); c > 0 && c < ceiling {
			ceiling = c
		}
	}
	return max(time.Duration(e.cfg.Rand()*float64(ceiling)), minRetry)
}

// officerError is err's outermost *kiosk.Error, or ErrSyncFailed wrapping err.
func officerError(err error) *kiosk.Error {
	if ke, ok := errors.AsType[*kiosk.Error](err); ok {
		return ke
	}
	return ErrSyncFailed.With(err)
}

func (e *Engine) refreshPending(ctx context.Context) {
	counts, err := e.cfg.Store.RecordCounts(ctx)
	if err != nil {
		// Tampered rows are left out of the counts and reported; the counts still stand.
		e.log.Warn("sync: counting the outbox", "err", err)
		if counts == nil {
			return
		}
	}
	e.mu.Lock()
	e.pending = counts[kiosk.RecordPending] + counts[kiosk.RecordSent]
	e.mu.Unlock()
}

// Push runs the push lane once: batches of unanswered records (deactivations first, as the
// store orders them) go to the registry until none is left, each batch marked sent before it
// goes on the wire and its answers recorded after. A rejected record is answered like any
// other and never holds back the rest.
func (e *Engine) Push(ctx context.Context) (PushResult, error) {
	e.push.run.Lock()
	defer e.push.run.Unlock()
	res, err := e.pushAll(ctx)
	e.finish(ctx, e.push, err)
	e.refreshPending(ctx)
	return res, err
}

func (e *Engine) pushAll(ctx context.Context) (PushResult, error) {
	var (
		res     PushResult
		readErr error
		// alarm is the registry telling that this kiosk's audit log went back in time. The
		// record is answered like any other, but the lane reports it until a round without
		// one, so the home screen shows it loudly.
		alarm error
		seen  = map[string]bool{}
	)
	if err := e.halted(ctx); err != nil {
		return res, err
	}
	var (
		queue []kiosk.OutboxRecord // read but not yet pushed, in the order to push
		more  bool                 // the last read filled its limit: more may wait
	)
	for {
		if len(queue) == 0 {
			// The store checks every outbox row on each read, so one read serves many
			// batches: reading per batch made a long drain quadratic in the queue.
			limit := e.cfg.Batch * readAheadBatches
			recs, err := e.cfg.Store.ToSend(ctx, limit)
			if err != nil {
				if len(recs) == 0 {
					return res, fmt.Errorf("push: read outbox: %w", err)
				}
				// Records that fail their integrity check are left out; send the good ones, and
				// report the bad ones as the lane's error once they are sent.
				e.log.Error("sync: outbox records left out", "err", err)
				readErr = fmt.Errorf("push: read outbox: %w", err)
			}
			more = len(recs) >= limit
			for _, r := range recs {
				if !seen[r.ID] {
					queue = append(queue, r)
				}
			}
			if len(queue) == 0 {
				// Nothing left, or only records this run already pushed (their answers did not
				// move them): stop rather than push them again in a loop.
				return res, cmp.Or(readErr, alarm)
			}
		}
		fresh := queue[:min(len(queue), e.cfg.Batch)]
		queue = queue[len(fresh):]
		ids := make([]string, len(fresh))
		envs := make([][]byte, len(fresh))
		for i, r := range fresh {
			ids[i], envs[i] = r.ID, r.Envelope
			seen[r.ID] = true
		}
		if err := e.cfg.Store.MarkSent(ctx, ids); err != nil {
			return res, fmt.Errorf("push: mark sent: %w", err)
		}
		head, err := e.pushHead(ctx)
		if err != nil {
			return res, err
		}
		resp, err := e.cfg.Client.Push(ctx, envs, head)
		if err != nil {
			return res, e.haltOn(ctx, err)
		}
		answers, err := recordAnswers(ids, resp)
		if err != nil {
			return res, err
		}
		if err := e.cfg.Store.RecordAnswers(ctx, answers); err != nil {
			return res, fmt.Errorf("push: record answers: %w", err)
		}
		res.Sent += len(ids)
		for _, a := range answers {
			if a.State == kiosk.RecordRejected {
				res.Rejected++
				e.log.Warn("sync: record rejected", "record", a.ID, "reason", a.Reason)
				if strings.HasPrefix(a.Reason, ErrAuditRollback.Code+":") {
					e.log.Error("sync: THE REGISTRY REPORTS AN AUDIT ROLLBACK of this kiosk's database", "record", a.ID)
					alarm = ErrAuditRollback.With(fmt.Errorf("checkpoint record %s", a.ID))
				}
			} else {
				res.Acknowledged++
			}
		}
		e.anchor(ctx, resp.Time)
		if len(queue) == 0 && !more {
			return res, cmp.Or(readErr, alarm)
		}
	}
}

// recordAnswers maps the registry's answers to what the store keeps. A rejection's reason is
// its code (for operators and the log) and then the officer's words in Indonesian.
func recordAnswers(ids []string, resp PushResponse) ([]kiosk.RecordAnswer, error) {
	// Client.Push checks too, but the engine takes any RegistryClient.
	if err := checkAnswers(len(ids), resp.Answers); err != nil {
		return nil, err
	}
	out := make([]kiosk.RecordAnswer, len(ids))
	for i, a := range resp.Answers {
		if a.Status != StatusRejected {
			out[i] = kiosk.RecordAnswer{ID: ids[i], State: kiosk.RecordAcknowledged}
			continue
		}
		reason := a.Code + ": " + ErrorForCode(a.Code).Msg.ID
		if a.Code == ErrDuplicateActivation.Code && a.Winner != "" {
			reason += " (catatan " + a.Winner + ")"
		}
		out[i] = kiosk.RecordAnswer{ID: ids[i], State: kiosk.RecordRejected, Reason: reason}
	}
	return out, nil
}

// Pull runs the pull lane once: pages of changes after the stored cursor, each applied with
// its cursor in one transaction, until the registry has no more.
func (e *Engine) Pull(ctx context.Context) (PullResult, error) {
	e.pull.run.Lock()
	defer e.pull.run.Unlock()
	res, err := e.pullAll(ctx)
	e.finish(ctx, e.pull, err)
	return res, err
}

func (e *Engine) pullAll(ctx context.Context) (PullResult, error) {
	var res PullResult
	cursor, err := e.cfg.Store.SnapshotCursor(ctx)
	if err != nil {
		return res, fmt.Errorf("pull: read cursor: %w", err)
	}
	for res.Pages < maxPagesPerRound {
		page, err := e.cfg.Client.Changes(ctx, cursor, e.cfg.PageLimit)
		if err != nil {
			return res, err
		}
		d, err := DecodeDeltaPage(page)
		if err != nil {
			return res, ErrRegistryAnswer.With(fmt.Errorf("changes after %q: %w", cursor, err))
		}
		if page.More && (page.Cursor == "" || page.Cursor == cursor) {
			return res, ErrRegistryAnswer.With(fmt.Errorf("changes after %q: more to come but no new cursor", cursor))
		}
		c, err := e.cfg.Store.ApplyDelta(ctx, d)
		if err != nil {
			return res, fmt.Errorf("pull: apply changes after %q: %w", cursor, err)
		}
		for _, r := range d.Refused {
			e.log.Warn("sync: resident refused and removed", "nik", r.NIK.Masked(), "err", r.Err)
		}
		res.Pages++
		res.Counts = addCounts(res.Counts, c)
		e.anchor(ctx, page.Time)
		if !page.More {
			if res.Counts != (kiosk.DeltaCounts{}) {
				e.log.Info("sync: changes applied", "pages", res.Pages, "counts", fmt.Sprintf("%+v", res.Counts))
			}
			return res, nil
		}
		cursor = page.Cursor // checked above: more to come always brings a new cursor
	}
	return res, nil // the rest comes with the next round
}

func addCounts(a, b kiosk.DeltaCounts) kiosk.DeltaCounts {
	a.ResidentsAdded += b.ResidentsAdded
	a.ResidentsUpdated += b.ResidentsUpdated
	a.ResidentsRemoved += b.ResidentsRemoved
	a.OfficersUpdated += b.OfficersUpdated
	a.OfficersSkipped += b.OfficersSkipped
	a.Keys += b.Keys
	return a
}

// anchor sets the kiosk's clock to the registry's time read with an answer. A failure to save
// the anchor is logged, not the lane's failure: the data went through.
func (e *Engine) anchor(ctx context.Context, ms int64) {
	if ms == 0 {
		return
	}
	if err := e.cfg.Store.AnchorClock(ctx, MillisTime(ms)); err != nil {
		e.log.Warn("sync: anchoring the clock", "err", err)
	}
}
