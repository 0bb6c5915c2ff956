package sync

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// The kiosk's side of the stick: answers and changes go through the very code the network
// uses (recordAnswers and Store.RecordAnswers; the engine's pull lane), so a record answered
// by stick and by network, or a page applied by either, ends the same.

// OutboxSource is the kiosk store as ExportOutbox reads it (kiosk/store.Store).
type OutboxSource interface {
	ToSend(ctx context.Context, limit int) ([]kiosk.OutboxRecord, error)
	// Checkpoint queues an audit checkpoint record of the audit chain's head.
	Checkpoint(ctx context.Context) (kiosk.AuditCheckpoint, error)
	RegistryKeys(ctx context.Context) ([]kiosk.RegistryKey, error)
	KioskID() string
	DeviceKey() ed25519.PrivateKey
	Now() time.Time
}

// OutboxExport is one outbox bundle made by ExportOutbox.
type OutboxExport struct {
	Bundle   []byte // nil when no record waits for the registry
	Manifest OutboxManifest
	Records  int
	// LeftOut reports records that failed their integrity check: they stay behind, the good
	// ones travel.
	LeftOut error
}

// ExportOutbox seals the records the registry has not answered as one outbox bundle. They
// stay pending: a lost stick loses nothing, and the next export carries them again.
func ExportOutbox(ctx context.Context, src OutboxSource) (OutboxExport, error) {
	recs, readErr := src.ToSend(ctx, MaxBundleRecords)
	if readErr != nil && len(recs) == 0 {
		return OutboxExport{}, readErr
	}
	// A network push carries the kiosk's audit head; a stick carries it as a checkpoint, so
	// the registry can refuse a rolled-back kiosk after stick-only weeks too. Queued now, it
	// is answered with the records, and the answers' own audit entries start the count to
	// the next periodic one afresh.
	if len(recs) > 0 && !slices.ContainsFunc(recs, func(r kiosk.OutboxRecord) bool { return r.Kind == kiosk.KindAuditCheckpoint }) {
		if _, err := src.Checkpoint(ctx); err != nil {
			return OutboxExport{}, fmt.Errorf("bundle export: %w", err)
		}
		if recs, readErr = src.ToSend(ctx, MaxBundleRecords); readErr != nil && len(recs) == 0 {
			return OutboxExport{}, readErr
		}
	}
	x := OutboxExport{Records: len(recs), LeftOut: readErr}
	if len(recs) == 0 {
		return x, nil
	}
	keys, err := src.RegistryKeys(ctx)
	if err != nil && len(keys) == 0 {
		return OutboxExport{}, err
	}
	x.Bundle, x.Manifest, err = SealOutbox(src.KioskID(), src.DeviceKey(), recs, keys, src.Now())
	if err != nil {
		return OutboxExport{}, err
	}
	return x, nil
}

// ApplyAnswers records the answers of a verified answers bundle (see OpenAnswers), like the
// answers to a push. An answer for a record the kiosk does not hold fails the whole bundle
// with nothing stored; a record already answered keeps its first answer.
func ApplyAnswers(ctx context.Context, st kiosk.SyncStore, a BundleAnswers) (PushResult, error) {
	answers, err := recordAnswers(a.IDs, PushResponse{Time: a.Time, Answers: a.Answers})
	if err != nil {
		return PushResult{}, err
	}
	if err := st.RecordAnswers(ctx, answers); err != nil {
		return PushResult{}, fmt.Errorf("record the answers of bundle %s: %w", a.BundleID, err)
	}
	res := PushResult{Sent: len(answers)}
	for _, x := range answers {
		if x.State == kiosk.RecordRejected {
			res.Rejected++
		} else {
			res.Acknowledged++
		}
	}
	return res, nil
}

// ApplyChanges applies a verified changes bundle (see OpenChanges) to a kiosk enrolled for
// area, from the kiosk's own cursor on, through the engine's pull lane. A bundle that ends
// before the kiosk's cursor is ErrBundleOld (no roll-back by an old stick), one that ends at
// it ErrBundleReplayed, one that starts after it ErrBundleGap; each stores nothing. A cut in
// the middle resumes, at the next apply, after the last page applied.
func ApplyChanges(ctx context.Context, st kiosk.SyncStore, area string, c BundleChanges, log *slog.Logger) (PullResult, error) {
	if area == "" {
		// Kiosks enrolled before the area was kept: the network pull still serves them.
		return PullResult{}, ErrBundleWrongArea.With(fmt.Errorf("changes of %q; this kiosk's enrolment did not record its area", c.Area))
	}
	if c.Area != area {
		return PullResult{}, ErrBundleWrongArea.With(fmt.Errorf("changes of %q, kiosk enrolled for %q", c.Area, area))
	}
	cursor, err := st.SnapshotCursor(ctx)
	if err != nil {
		return PullResult{}, fmt.Errorf("apply changes: read cursor: %w", err)
	}
	at, err := cursorNumber(cursor)
	if err != nil {
		return PullResult{}, fmt.Errorf("apply changes: the kiosk's cursor %q: %w", cursor, err)
	}
	switch {
	case c.Until < at:
		return PullResult{}, ErrBundleOld.With(fmt.Errorf("changes up to %d, the kiosk has up to %d", c.Until, at))
	case c.Until == at && c.Since < at:
		return PullResult{}, ErrBundleReplayed.With(fmt.Errorf("changes %d to %d, the kiosk has up to %d", c.Since, c.Until, at))
	case c.Since > at:
		return PullResult{}, ErrBundleGap.With(fmt.Errorf("changes after %d, the kiosk has up to %d", c.Since, at))
	}
	e, err := NewEngine(EngineConfig{Store: st, Client: &stickClient{c: c}, Log: log})
	if err != nil {
		return PullResult{}, err
	}
	return e.Pull(ctx)
}

// cursorNumber reads a cursor of the registry's (a change number; "" before the first pull).
func cursorNumber(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(c, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a change number")
	}
	return n, nil
}

// stickClient serves a changes bundle's pages to the pull lane as the registry would: the
// page after a cursor.
type stickClient struct{ c BundleChanges }

var errStickPush = errors.New("a changes bundle carries no push")

func (s *stickClient) Push(context.Context, [][]byte, *PushHead) (PushResponse, error) {
	return PushResponse{}, errStickPush
}

func (s *stickClient) Changes(_ context.Context, cursor string, _ int) (DeltaPage, error) {
	at, err := cursorNumber(cursor)
	if err != nil {
		return DeltaPage{}, err
	}
	prev := s.c.Since
	for _, p := range s.c.Pages {
		cur, _ := strconv.ParseInt(p.Cursor, 10, 64) // checked by OpenChanges
		if at >= prev && at < cur || at == prev && cur == prev {
			// The registry's time on a stick is when the stick was made, days ago perhaps:
			// it must not anchor the kiosk's clock (the pull lane anchors to a page's time).
			p.Time = 0
			return p, nil
		}
		prev = cur
	}
	return DeltaPage{}, ErrBundleGap.With(fmt.Errorf("no page after %d in changes %d to %d", at, s.c.Since, s.c.Until))
}
