package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// DefaultRetention is how long the kiosk keeps the evidence of a record after the registry
// answered it: 30 days. UU 27/2022 (Pasal 16 ayat 2) allows personal data to be kept only as
// long as its purpose needs and requires it to be deleted when the retention period ends.
// Once the registry has acknowledged a record it holds the signed record itself, and that is
// the copy a dispute is settled on; the kiosk's copy serves only a complaint raised at the
// counter (a citizen who says "that was not me", an officer's question), which comes within
// days of the visit, and the monthly report to the Dinas, which reconciles the kiosk's counts
// (kept, they hold no personal data) with the registry's. A month covers both with room for
// a village kiosk that reaches the office only every few weeks. Records still pending or sent
// are never purged, however old: they are not evidence yet but the record itself.
const DefaultRetention = 30 * 24 * time.Hour

// purgeBatch bounds one purge transaction, so the write lock is never held for long and a
// power cut loses at most one batch's work (each batch commits or not as a whole).
const purgeBatch = 200

// PurgeReport says what a purge erased (or, for a dry run, would erase).
type PurgeReport struct {
	Before        time.Time // evidence answered before this went
	Records       int       // acknowledged or rejected records whose envelope was erased
	AuditDetails  int       // audit entries whose detail was erased
	TamperedSkips int       // records left alone because their MAC failed
}

// Purge erases the evidence the kiosk no longer needs: the sealed envelope (the signed
// record: NIK, officer, face scores) and NIK blind index of every record the registry
// answered (acknowledged or rejected) more than retention ago, and the sealed detail of audit
// entries older than that, except entries about records still open. What stays is what
// proves the history without the content: the record's id, kind, state and answer (its
// registration's blind index still refuses a second activation) and every audit entry's
// time, officer, action, subject and hash chain, which VerifyAudit still checks. Entries
// written before schema 5 hash their detail itself and keep it.
//
// With dryRun nothing is written. Each batch is its own transaction: a purge cut by a power
// loss leaves a store that verifies and a purge that, run again, finishes the job.
func (s *Store) Purge(ctx context.Context, retention time.Duration, dryRun bool) (PurgeReport, error) {
	if retention <= 0 {
		return PurgeReport{}, fmt.Errorf("purge: retention %v must be positive", retention)
	}
	rep := PurgeReport{Before: s.now().Add(-retention)}
	cutoff := rep.Before.UnixNano()
	if dryRun {
		err := s.db.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM outbox WHERE state IN ('acknowledged', 'rejected') AND length(envelope) > 0 AND updated_at < ?),
			(SELECT count(*) FROM audit WHERE `+auditPurgeWhere+`)`, cutoff, cutoff).Scan(&rep.Records, &rep.AuditDetails)
		if err != nil {
			return rep, fmt.Errorf("purge: %w", classify(err))
		}
		return rep, nil
	}
	for {
		var n, skipped int
		err := s.write(ctx, func(tx *sql.Tx) error {
			var err error
			n, skipped, err = s.purgeRecords(ctx, tx, cutoff, rep.TamperedSkips)
			return err
		})
		if err != nil {
			return rep, fmt.Errorf("purge records: %w", err)
		}
		rep.Records += n
		rep.TamperedSkips += skipped
		if n+skipped < purgeBatch {
			break
		}
	}
	for {
		var n int64
		err := s.write(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE audit SET detail_sealed = x'' WHERE seq IN
				(SELECT seq FROM audit WHERE `+auditPurgeWhere+` ORDER BY seq LIMIT ?)`, cutoff, purgeBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return rep, fmt.Errorf("purge audit details: %w", err)
		}
		rep.AuditDetails += int(n)
		if n < purgeBatch {
			break
		}
	}
	if rep.Records+rep.AuditDetails > 0 {
		err := s.Record(ctx, kiosk.AuditEvent{OfficerID: "kiosk", Action: "store.purged", Subject: "retention",
			Detail: fmt.Sprintf("records=%d audit_details=%d before=%s", rep.Records, rep.AuditDetails, rep.Before.UTC().Format(time.RFC3339))})
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// auditPurgeWhere selects the audit entries whose detail may go: version 2, older than the
// cutoff (the one parameter), not purged yet, and not about a record still open.
const auditPurgeWhere = `hash_version = 2 AND at < ? AND length(detail_sealed) > 0
	AND subject NOT IN (SELECT id FROM outbox WHERE state IN ('pending', 'sent'))`

// purgeRecords erases up to purgeBatch records' evidence inside tx. Rows whose MAC fails are
// skipped (offset past the ones skipped before), never given a fresh MAC.
func (s *Store) purgeRecords(ctx context.Context, tx *sql.Tx, cutoff int64, skippedBefore int) (purged, skipped int, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox
		WHERE state IN ('acknowledged', 'rejected') AND length(envelope) > 0 AND updated_at < ?
		ORDER BY seq LIMIT ? OFFSET ?`, cutoff, purgeBatch, skippedBefore)
	if err != nil {
		return 0, 0, err
	}
	var todo []storedOutbox
	for rows.Next() {
		r, err := s.scanOutbox(rows)
		if err != nil {
			rows.Close()
			return 0, 0, err
		}
		todo = append(todo, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	for _, r := range todo {
		var re *RowError
		if err := s.checkOutboxRow(r); errors.As(err, &re) {
			skipped++
			continue
		}
		r.envelope, r.nikBI = []byte{}, nil
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET envelope = x'', nik_bi = NULL, mac = ? WHERE seq = ?`,
			s.keys.rowMAC("outbox", r.fields()), r.seq); err != nil {
			return 0, 0, err
		}
		purged++
	}
	return purged, skipped, nil
}

// purgedRow reports whether an outbox row's evidence was purged: an answered record with no
// envelope. The row's MAC covers the empty envelope, so emptying one by hand is caught.
func purgedRow(r storedOutbox) bool {
	return len(r.envelope) == 0 && (r.state == string(kiosk.RecordAcknowledged) || r.state == string(kiosk.RecordRejected))
}
