package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// The supervisor's limits (the stale-data policy and the evidence retention) are kept across
// restarts with a row MAC like the registry link: someone who can write the file but lacks
// the unlock secret must not be able to lift the stale-data stop or keep evidence longer.

const metaLimits = "limits"

// Limits are the supervisor-set limits; a zero field means the default (kiosk.DefaultStalePolicy,
// DefaultRetention).
type Limits struct {
	Stale     kiosk.StalePolicy
	Retention time.Duration
}

func (l Limits) encode() []byte {
	var b []byte
	for _, d := range []time.Duration{l.Stale.WarnAfter, l.Stale.SupervisorAfter, l.Stale.StopAfter, l.Retention} {
		b = binary.BigEndian.AppendUint64(b, uint64(d))
	}
	return b
}

// SetLimits stores the supervisor's limits.
func (s *Store) SetLimits(ctx context.Context, l Limits) error {
	b := l.encode()
	if err := setMeta(ctx, s.db, metaLimits, append(s.keys.rowMAC("limits", macFields{b}), b...)); err != nil {
		return fmt.Errorf("save limits: %w", classify(err))
	}
	return nil
}

// Limits returns the stored limits, zero when none were set, or an error matching
// ErrTampered when the stored value was changed outside the kiosk.
func (s *Store) Limits(ctx context.Context) (Limits, error) {
	return s.limits(ctx, s.db)
}

func (s *Store) limits(ctx context.Context, q querier) (Limits, error) {
	v, err := getMeta(ctx, q, metaLimits)
	if err != nil || v == nil {
		return Limits{}, err
	}
	if len(v) != sha256.Size+32 || !s.keys.checkRow("limits", macFields{v[sha256.Size:]}, v[:sha256.Size]) {
		return Limits{}, tampered("meta", metaLimits, "MAC does not match (edited outside the kiosk)")
	}
	d := func(i int) time.Duration {
		return time.Duration(binary.BigEndian.Uint64(v[sha256.Size+8*i:]))
	}
	return Limits{Stale: kiosk.StalePolicy{WarnAfter: d(0), SupervisorAfter: d(1), StopAfter: d(2)}, Retention: d(3)}, nil
}

func (s *Store) verifyLimits(ctx context.Context, tx *sql.Tx) (TableReport, error) {
	t := TableReport{Table: "limits"}
	l, err := s.limits(ctx, tx)
	if re := rowErr(err); re != nil {
		t.Rows, t.Bad = 1, append(t.Bad, *re)
		return t, nil
	}
	if l != (Limits{}) {
		t.Rows = 1
	}
	return t, err
}
