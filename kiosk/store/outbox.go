package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

var _ kiosk.Outbox = (*Store)(nil)

// Outbox errors besides the kiosk's ErrAlreadyActivated and ErrAlreadyDeactivated.
var (
	ErrDuplicateRecord = &kiosk.Error{Code: "outbox.duplicate_id", Msg: msgInternalError}
	ErrInvalidRecord   = &kiosk.Error{Code: "outbox.invalid", Msg: msgInternalError}
	ErrUnknownRecord   = &kiosk.Error{Code: "outbox.unknown_record", Msg: msgInternalError}
)

// Enqueue implements kiosk.Outbox: rec and ev are written in one transaction that is on disk
// (synchronous=FULL) when Enqueue returns. An activation of a registration id queued before,
// in whatever state, fails with kiosk.ErrAlreadyActivated; a second open (pending or sent)
// deactivation of a NIK with kiosk.ErrAlreadyDeactivated; nothing is written then.
//
// The NIK and registration id are kept as blind indexes only and the envelope is encrypted,
// so records read back have an empty NIK and RegistrationID.
func (s *Store) Enqueue(ctx context.Context, rec kiosk.OutboxRecord, ev kiosk.AuditEvent) error {
	if err := validRecord(rec); err != nil {
		return err
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.now()
	}
	var nikBI, regBI []byte
	if rec.NIK != "" {
		nikBI = s.keys.blindIndex("nik", string(rec.NIK))
	}
	if rec.RegistrationID != "" {
		regBI = s.keys.blindIndex("registration", rec.RegistrationID)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		switch rec.Kind {
		case kiosk.KindActivation:
			if used, err := exists(ctx, tx, "SELECT 1 FROM outbox WHERE kind = 'activation' AND reg_bi = ?", regBI); err != nil || used {
				return errOr(err, kiosk.ErrAlreadyActivated)
			}
		case kiosk.KindDeactivation:
			if open, err := exists(ctx, tx, `SELECT 1 FROM outbox WHERE kind = 'deactivation' AND nik_bi = ?
				AND state IN ('pending', 'sent')`, nikBI); err != nil || open {
				return errOr(err, kiosk.ErrAlreadyDeactivated)
			}
		}
		at := rec.CreatedAt.UnixNano()
		_, err := tx.ExecContext(ctx, `INSERT INTO outbox
			(id, kind, nik_bi, reg_bi, envelope, state, answer, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, '', ?, ?)`,
			rec.ID, string(rec.Kind), nikBI, regBI, s.keys.seal(rec.Envelope, outboxAAD(rec.ID)),
			string(kiosk.RecordPending), at, at)
		if isConstraint(err) {
			return ErrDuplicateRecord.With(fmt.Errorf("record id %s", rec.ID))
		}
		if err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("enqueue %s %s: %w", rec.Kind, rec.ID, err)
	}
	return nil
}

func validRecord(rec kiosk.OutboxRecord) error {
	var problem string
	switch {
	case rec.ID == "":
		problem = "empty id"
	case len(rec.Envelope) == 0:
		problem = "empty envelope"
	case rec.Kind == kiosk.KindActivation && (rec.RegistrationID == "" || rec.NIK == ""):
		problem = "activation without registration id or NIK"
	case rec.Kind == kiosk.KindDeactivation && rec.NIK == "":
		problem = "deactivation without NIK"
	case rec.Kind != kiosk.KindActivation && rec.Kind != kiosk.KindDeactivation && rec.Kind != kiosk.KindAuditCheckpoint:
		problem = fmt.Sprintf("unknown kind %q", rec.Kind)
	default:
		return nil
	}
	return ErrInvalidRecord.With(fmt.Errorf("record %q: %s", rec.ID, problem))
}

func exists(ctx context.Context, tx *sql.Tx, query string, args ...any) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func errOr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

func outboxAAD(id string) []byte { return append([]byte("outbox\x00"), id...) }

// RegistrationUsed implements kiosk.Outbox.
func (s *Store) RegistrationUsed(ctx context.Context, regID string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, "SELECT 1 FROM outbox WHERE kind = 'activation' AND reg_bi = ?",
		s.keys.blindIndex("registration", regID)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("registration used: %w", classify(err))
	}
	return true, nil
}

// ToSend returns up to limit records the registry has not answered yet (pending, and sent
// but unanswered, since delivery is idempotent by record id), deactivations first so that a
// lost phone is blocked before any stale activation arrives, then in queue order.
func (s *Store) ToSend(ctx context.Context, limit int) ([]kiosk.OutboxRecord, error) {
	return s.queryRecords(ctx, `WHERE state IN ('pending', 'sent')
		ORDER BY kind = 'deactivation' DESC, seq LIMIT ?`, limit)
}

// Records lists up to limit records in state (all states if empty), oldest first.
func (s *Store) Records(ctx context.Context, state kiosk.RecordState, limit int) ([]kiosk.OutboxRecord, error) {
	if state == "" {
		return s.queryRecords(ctx, "ORDER BY seq LIMIT ?", limit)
	}
	return s.queryRecords(ctx, "WHERE state = ? ORDER BY seq LIMIT ?", string(state), limit)
}

func (s *Store) queryRecords(ctx context.Context, where string, args ...any) ([]kiosk.OutboxRecord, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, kind, envelope, state, answer, created_at FROM outbox "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", classify(err))
	}
	defer rows.Close()
	var out []kiosk.OutboxRecord
	for rows.Next() {
		var (
			r      kiosk.OutboxRecord
			sealed []byte
			at     int64
		)
		if err := rows.Scan(&r.ID, &r.Kind, &sealed, &r.State, &r.Answer, &at); err != nil {
			return nil, fmt.Errorf("read outbox: %w", classify(err))
		}
		if r.Envelope, err = s.keys.open(sealed, outboxAAD(r.ID)); err != nil {
			return nil, fmt.Errorf("outbox record %s: %w", r.ID, err)
		}
		r.CreatedAt = time.Unix(0, at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read outbox: %w", classify(err))
	}
	return out, nil
}

// RecordCounts returns how many records are in each state.
func (s *Store) RecordCounts(ctx context.Context) (map[kiosk.RecordState]int, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT state, count(*) FROM outbox GROUP BY state")
	if err != nil {
		return nil, fmt.Errorf("count outbox: %w", classify(err))
	}
	defer rows.Close()
	counts := map[kiosk.RecordState]int{}
	for rows.Next() {
		var st kiosk.RecordState
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count outbox: %w", classify(err))
		}
		counts[st] = n
	}
	return counts, classify(rows.Err())
}

// MarkSent moves pending records to sent before a push, so the officer sees them in flight.
func (s *Store) MarkSent(ctx context.Context, ids []string) error {
	now := s.now().UnixNano()
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, "UPDATE outbox SET state = 'sent', updated_at = ? WHERE id = ? AND state = 'pending'",
				now, id); err != nil {
				return fmt.Errorf("mark %s sent: %w", id, err)
			}
		}
		return nil
	})
}

// Answer is the registry's verdict on one record.
type Answer struct {
	ID     string
	State  kiosk.RecordState // StateAcknowledged (accepted or duplicate) or StateRejected
	Reason string            // the registry's words, shown to the officer
}

// RecordAnswers stores the registry's answers in one transaction, each with an audit entry.
// An answer for a record already answered the same way is ignored (a repeated push); an
// answer for an unknown record fails the whole batch.
func (s *Store) RecordAnswers(ctx context.Context, answers []Answer) error {
	now := s.now()
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, a := range answers {
			if a.State != kiosk.RecordAcknowledged && a.State != kiosk.RecordRejected {
				return ErrInvalidRecord.With(fmt.Errorf("answer for %s: state %q", a.ID, a.State))
			}
			res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = ?, answer = ?, updated_at = ?
				WHERE id = ? AND state IN ('pending', 'sent')`, string(a.State), a.Reason, now.UnixNano(), a.ID)
			if err != nil {
				return fmt.Errorf("answer %s: %w", a.ID, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				var st string
				err := tx.QueryRowContext(ctx, "SELECT state FROM outbox WHERE id = ?", a.ID).Scan(&st)
				if errors.Is(err, sql.ErrNoRows) {
					return ErrUnknownRecord.With(fmt.Errorf("answer for unknown record %s", a.ID))
				}
				if err != nil {
					return err
				}
				continue // already answered; the first answer stands
			}
			if err := s.appendAudit(ctx, tx, kiosk.AuditEvent{Time: now, Action: "outbox." + string(a.State),
				Subject: a.ID, Detail: strings.TrimSpace(a.Reason)}); err != nil {
				return err
			}
		}
		return nil
	})
}
