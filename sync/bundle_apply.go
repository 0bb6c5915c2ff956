package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/ikd-field/ikd/kiosk"
)

// The kiosk's side of the stick: answers and changes go through the very code the network
// uses (recordAnswers and Store.RecordAnswers; the engine's pull lane), so a record answered
// by stick and by network, or a page applied by either, ends the same.

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
