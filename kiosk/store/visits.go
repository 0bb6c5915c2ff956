package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// VisitStat is one visit at the counter as the statistics keep it: when it ended, what it
// was for, how it ended and how long each step took. It names no one.
type VisitStat struct {
	At                                  time.Time
	Purpose                             kiosk.Purpose
	Outcome                             string // "approved", "rejected:<reason>", "abandoned"
	Scan, Resident, Face, Decision, All time.Duration
}

// AddVisitStat stores one visit's statistics durably.
func (s *Store) AddVisitStat(ctx context.Context, v VisitStat) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO visit_stats
			(at, purpose, outcome, scan_ms, resident_ms, face_ms, decision_ms, total_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			v.At.UnixNano(), string(v.Purpose), v.Outcome, v.Scan.Milliseconds(), v.Resident.Milliseconds(),
			v.Face.Milliseconds(), v.Decision.Milliseconds(), v.All.Milliseconds())
		return err
	})
	if err != nil {
		return fmt.Errorf("store visit statistics: %w", err)
	}
	return nil
}

// VisitStats returns the visits that ended in [from, to), oldest first.
func (s *Store) VisitStats(ctx context.Context, from, to time.Time) ([]VisitStat, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, purpose, outcome, scan_ms, resident_ms, face_ms, decision_ms, total_ms
		FROM visit_stats WHERE at >= ? AND at < ? ORDER BY at, seq`, from.UnixNano(), to.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("read visit statistics: %w", classify(err))
	}
	defer rows.Close()
	var out []VisitStat
	for rows.Next() {
		var at, scan, res, face, dec, all int64
		var v VisitStat
		if err := rows.Scan(&at, &v.Purpose, &v.Outcome, &scan, &res, &face, &dec, &all); err != nil {
			return nil, fmt.Errorf("read visit statistics: %w", classify(err))
		}
		ms := func(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
		v.At = time.Unix(0, at)
		v.Scan, v.Resident, v.Face, v.Decision, v.All = ms(scan), ms(res), ms(face), ms(dec), ms(all)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read visit statistics: %w", classify(err))
	}
	return out, nil
}
