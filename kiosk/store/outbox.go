package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
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
	err := s.write(ctx, func(tx *sql.Tx) error { return s.enqueue(ctx, tx, rec, ev) })
	if err != nil {
		return fmt.Errorf("enqueue %s %s: %w", rec.Kind, rec.ID, err)
	}
	return nil
}

// enqueue writes rec as the next outbox record, with ev, inside tx. The sequence number comes
// from the sealed outbox head and is bound into the row's MAC, so a deleted record leaves a
// gap that checkOutboxComplete sees; the duplicate checks refuse to decide on an outbox with
// a gap, since a deleted activation would otherwise be approved again.
func (s *Store) enqueue(ctx context.Context, tx *sql.Tx, rec kiosk.OutboxRecord, ev kiosk.AuditEvent) error {
	r := outboxRow{id: rec.ID, kind: string(rec.Kind), state: string(kiosk.RecordPending), createdAt: rec.CreatedAt.UnixNano()}
	if rec.NIK != "" {
		r.nikBI = s.keys.blindIndex("nik", string(rec.NIK))
	}
	if rec.RegistrationID != "" {
		r.regBI = s.keys.blindIndex("registration", rec.RegistrationID)
	}
	if err := s.checkOutboxComplete(ctx, tx); err != nil {
		return err
	}
	switch rec.Kind {
	case kiosk.KindActivation:
		if used, err := exists(ctx, tx, "SELECT 1 FROM outbox WHERE kind = 'activation' AND reg_bi = ?", r.regBI); err != nil || used {
			return errOr(err, kiosk.ErrAlreadyActivated)
		}
	case kiosk.KindDeactivation:
		if open, err := exists(ctx, tx, `SELECT 1 FROM outbox WHERE kind = 'deactivation' AND nik_bi = ?
			AND state IN ('pending', 'sent')`, r.nikBI); err != nil || open {
			return errOr(err, kiosk.ErrAlreadyDeactivated)
		}
	case kiosk.KindCodeReissue:
		// One request in flight per registration: a second press would only be refused by
		// the registry (the first one's fresh code is still valid) after costing a try.
		if open, err := exists(ctx, tx, `SELECT 1 FROM outbox WHERE kind = 'code_reissue' AND reg_bi = ?
			AND state IN ('pending', 'sent')`, r.regBI); err != nil || open {
			return errOr(err, kiosk.ErrReissuePending)
		}
	}
	head, err := s.outboxHead(ctx, tx)
	if err != nil {
		return err
	}
	r.seq = head.last + 1
	r.envelope = s.keys.seal(rec.Envelope, outboxAAD(rec.ID))
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox
		(seq, id, kind, nik_bi, reg_bi, envelope, state, answer, created_at, updated_at, mac)
		VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?)`,
		r.seq, r.id, r.kind, r.nikBI, r.regBI, r.envelope, r.state, r.createdAt, r.createdAt,
		s.keys.rowMAC("outbox", r.fields()))
	if isConstraint(err) {
		return ErrDuplicateRecord.With(fmt.Errorf("record id %s", rec.ID))
	}
	if err != nil {
		return err
	}
	if err := setMeta(ctx, tx, metaOutboxHead, s.keys.encodeOutboxHead(outboxHead{last: r.seq, count: head.count + 1})); err != nil {
		return err
	}
	return s.appendAudit(ctx, tx, ev)
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
	case rec.Kind == kiosk.KindCodeReissue && (rec.RegistrationID == "" || rec.NIK == ""):
		problem = "code re-issue without registration id or NIK"
	case rec.Kind != kiosk.KindActivation && rec.Kind != kiosk.KindDeactivation && rec.Kind != kiosk.KindAuditCheckpoint &&
		rec.Kind != kiosk.KindCodeReissue:
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

// RegistrationUsed implements kiosk.Outbox. An outbox with a deleted record, or whose
// matching row fails its MAC, answers ErrTampered rather than "not used": a record deleted
// with sqlite3 must not let a registration be activated twice.
func (s *Store) RegistrationUsed(ctx context.Context, regID string) (bool, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return false, fmt.Errorf("registration used: %w", classify(err))
	}
	defer tx.Rollback()
	if err := s.checkOutboxComplete(ctx, tx); err != nil {
		return false, fmt.Errorf("registration used: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+outboxColumns+" FROM outbox WHERE kind = 'activation' AND reg_bi = ?",
		s.keys.blindIndex("registration", regID))
	if err != nil {
		return false, fmt.Errorf("registration used: %w", classify(err))
	}
	defer rows.Close()
	used := false
	for rows.Next() {
		r, err := s.scanOutbox(rows)
		if err != nil {
			return false, fmt.Errorf("registration used: %w", err)
		}
		if err := s.checkOutboxRow(r); err != nil {
			return false, fmt.Errorf("registration used: %w", err)
		}
		used = true
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("registration used: %w", classify(err))
	}
	return used, nil
}

const outboxColumns = "seq, id, kind, nik_bi, reg_bi, envelope, state, answer, created_at, mac"

// storedOutbox is an outbox row with its MAC.
type storedOutbox struct {
	outboxRow
	mac []byte
}

func (s *Store) scanOutbox(rows interface{ Scan(...any) error }) (storedOutbox, error) {
	var r storedOutbox
	if err := rows.Scan(&r.seq, &r.id, &r.kind, &r.nikBI, &r.regBI, &r.envelope, &r.state, &r.answer,
		&r.createdAt, &r.mac); err != nil {
		return r, classify(err)
	}
	return r, nil
}

func (s *Store) checkOutboxRow(r storedOutbox) error {
	if !s.keys.checkRow("outbox", r.fields(), r.mac) {
		return tampered("outbox", fmt.Sprintf("%d (%s)", r.seq, r.id), "MAC does not match (edited outside the kiosk)")
	}
	return nil
}

// ToSend returns up to limit records the registry has not answered yet (pending, and sent
// but unanswered, since delivery is idempotent by record id), deactivations first so that a
// lost phone is blocked before any stale activation arrives, then in queue order.
func (s *Store) ToSend(ctx context.Context, limit int) ([]kiosk.OutboxRecord, error) {
	return s.queryRecords(ctx, true, limit, func(st kiosk.RecordState) bool {
		return st == kiosk.RecordPending || st == kiosk.RecordSent
	})
}

// Records lists up to limit records in state (all states if empty), oldest first.
func (s *Store) Records(ctx context.Context, state kiosk.RecordState, limit int) ([]kiosk.OutboxRecord, error) {
	return s.queryRecords(ctx, false, limit, func(st kiosk.RecordState) bool { return state == "" || st == state })
}

// queryRecords returns up to limit records whose state passes want, in queue order, with
// the deactivations first if deactivationsFirst. Every row is checked, not only the ones
// wanted: a record whose state was edited to "acknowledged" would otherwise just drop out of
// the queue. Rows that fail are left out and reported in an error matching ErrTampered (a
// *TamperedError), returned together with the good records: one bad row must not hide the
// rest of the queue. Also a deleted record is reported.
//
// The rows are read in seq order (the primary key, so no sort) and the deactivations are
// put first here: an ORDER BY on the kind made SQLite sort every row, envelope and all, on
// each call, and the push lane calls this once a batch.
func (s *Store) queryRecords(ctx context.Context, deactivationsFirst bool, limit int, want func(kiosk.RecordState) bool) ([]kiosk.OutboxRecord, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", classify(err))
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, "SELECT "+outboxColumns+" FROM outbox ORDER BY seq")
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", classify(err))
	}
	defer rows.Close()
	var (
		first, rest []storedOutbox // wanted rows that passed their check, in seq order
		bad         skipped
	)
	for rows.Next() {
		row, err := s.scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("read outbox: %w", err)
		}
		if err := s.checkOutboxRow(row); err != nil {
			bad.add(ctx, *rowErr(err))
			continue
		}
		if !want(kiosk.RecordState(row.state)) {
			continue
		}
		if deactivationsFirst && row.kind == string(kiosk.KindDeactivation) {
			first = append(first, row)
		} else if len(rest) < limit {
			// More than limit of the rest can never be returned: deactivations only come
			// before them. (Rows that fail to open below are few, and then reported.)
			rest = append(rest, row)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read outbox: %w", classify(err))
	}
	var out []kiosk.OutboxRecord
	for _, row := range append(first, rest...) {
		if len(out) >= limit {
			break
		}
		r, err := s.openOutbox(row)
		if err != nil {
			bad.add(ctx, *rowErr(err))
			continue
		}
		out = append(out, r)
	}
	if re := rowErr(s.checkOutboxComplete(ctx, tx)); re != nil {
		bad.add(ctx, *re)
	}
	return out, bad.err()
}

// openOutbox checks a row and decrypts its envelope; its error always wraps a *RowError.
func (s *Store) openOutbox(row storedOutbox) (kiosk.OutboxRecord, error) {
	if err := s.checkOutboxRow(row); err != nil {
		return kiosk.OutboxRecord{}, err
	}
	env, err := s.keys.open(row.envelope, outboxAAD(row.id))
	if err != nil {
		return kiosk.OutboxRecord{}, tampered("outbox", fmt.Sprintf("%d (%s)", row.seq, row.id), err.Error())
	}
	return kiosk.OutboxRecord{ID: row.id, Kind: kiosk.RecordKind(row.kind), Envelope: env,
		State: kiosk.RecordState(row.state), Answer: row.answer, CreatedAt: time.Unix(0, row.createdAt), Seq: row.seq}, nil
}

// RecordCounts returns how many records are in each state, counting only records that pass
// their integrity check (the officer's pending count must not believe an edited state); the
// others are reported in an error matching ErrTampered, returned with the counts.
func (s *Store) RecordCounts(ctx context.Context) (map[kiosk.RecordState]int, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+outboxColumns+" FROM outbox")
	if err != nil {
		return nil, fmt.Errorf("count outbox: %w", classify(err))
	}
	defer rows.Close()
	counts := map[kiosk.RecordState]int{}
	var bad skipped
	for rows.Next() {
		row, err := s.scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("count outbox: %w", err)
		}
		if err := s.checkOutboxRow(row); err != nil {
			bad.add(ctx, *rowErr(err))
			continue
		}
		counts[kiosk.RecordState(row.state)]++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count outbox: %w", classify(err))
	}
	return counts, bad.err()
}

// MarkSent moves pending records to sent before a push, so the officer sees them in flight.
// A record that fails its integrity check is not touched (and not re-sealed).
func (s *Store) MarkSent(ctx context.Context, ids []string) error {
	now := s.now().UnixNano()
	return s.write(ctx, func(tx *sql.Tx) error {
		st, err := prepareStates(ctx, tx)
		if err != nil {
			return err
		}
		defer st.close()
		for _, id := range ids {
			if _, err := s.setState(ctx, st, id, kiosk.RecordSent, "", now, "pending"); err != nil && !errors.Is(err, errNoRecord) {
				return fmt.Errorf("mark %s sent: %w", id, err)
			}
		}
		return nil
	})
}

// stateStmts are setState's two statements, prepared once per transaction: MarkSent and
// RecordAnswers move a whole batch (200 records) at a time, and SQLite parsing the same two
// statements for every record was a good part of the push lane's time.
type stateStmts struct {
	get, update *sql.Stmt
}

func prepareStates(ctx context.Context, tx *sql.Tx) (*stateStmts, error) {
	get, err := tx.PrepareContext(ctx, "SELECT "+outboxColumns+" FROM outbox WHERE id = ?")
	if err != nil {
		return nil, fmt.Errorf("prepare outbox read: %w", err)
	}
	update, err := tx.PrepareContext(ctx, "UPDATE outbox SET state = ?, answer = ?, updated_at = ?, mac = ? WHERE seq = ?")
	if err != nil {
		get.Close()
		return nil, fmt.Errorf("prepare outbox update: %w", err)
	}
	return &stateStmts{get: get, update: update}, nil
}

func (st *stateStmts) close() {
	st.get.Close()
	st.update.Close()
}

// setState moves record id to state with answer if it is in one of the from states, keeping
// its MAC current. It reports whether the row moved; a row that is unknown fails with
// errNoRecord, one that fails its MAC with ErrTampered.
func (s *Store) setState(ctx context.Context, st *stateStmts, id string, state kiosk.RecordState, answer string,
	now int64, from ...string) (bool, error) {
	row, err := s.scanOutbox(st.get.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return false, errNoRecord
	}
	if err != nil {
		return false, err
	}
	if err := s.checkOutboxRow(row); err != nil {
		return false, err
	}
	if !slices.Contains(from, row.state) {
		return false, nil
	}
	row.state, row.answer = string(state), answer
	_, err = st.update.ExecContext(ctx, row.state, row.answer, now, s.keys.rowMAC("outbox", row.fields()), row.seq)
	return err == nil, err
}

var errNoRecord = errors.New("no such record")

// RecordAnswers stores the registry's answers in one transaction, each with an audit entry.
// An answer for a record already answered the same way is ignored (a repeated push); an
// answer for an unknown record fails the whole batch.
func (s *Store) RecordAnswers(ctx context.Context, answers []kiosk.RecordAnswer) error {
	now := s.now()
	return s.write(ctx, func(tx *sql.Tx) error {
		st, err := prepareStates(ctx, tx)
		if err != nil {
			return err
		}
		defer st.close()
		for _, a := range answers {
			if a.State != kiosk.RecordAcknowledged && a.State != kiosk.RecordRejected {
				return ErrInvalidRecord.With(fmt.Errorf("answer for %s: state %q", a.ID, a.State))
			}
			moved, err := s.setState(ctx, st, a.ID, a.State, a.Reason, now.UnixNano(), "pending", "sent")
			if errors.Is(err, errNoRecord) {
				return ErrUnknownRecord.With(fmt.Errorf("answer for unknown record %s", a.ID))
			}
			if err != nil {
				return fmt.Errorf("answer %s: %w", a.ID, err)
			}
			if !moved {
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
