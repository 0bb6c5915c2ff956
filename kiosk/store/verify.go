package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
)

// TableReport is what Verify found in one table.
type TableReport struct {
	Table string
	Rows  int        // rows read
	Bad   []RowError // in table order; Bad[0] is the first bad row
}

// VerifyReport is the result of Verify: every authenticated row, the audit chain and the
// anchor file.
type VerifyReport struct {
	Tables       []TableReport
	AuditEntries int64
	Audit        error // nil, or matches ErrAuditBroken (a *ChainError names the entry)
	Anchor       error // nil, or matches ErrRolledBack
}

// OK reports whether nothing was found wrong.
func (r VerifyReport) OK() bool {
	for _, t := range r.Tables {
		if len(t.Bad) > 0 {
			return false
		}
	}
	return r.Audit == nil && r.Anchor == nil
}

// Verify opens the store at path read-only and checks everything that is authenticated; a
// database behind its anchor file is reported rather than refused. It writes nothing, not
// even the WAL: a store of an older schema fails with ErrNeedsMigration instead of being
// migrated. Its error is for what stopped the check (a wrong secret, an unreadable file, an
// old schema); what the check found is in the report.
func Verify(ctx context.Context, path string, secret []byte, opts Options) (VerifyReport, error) {
	opts = opts.withDefaults()
	opts.readOnly = true
	if _, err := os.Stat(path); err != nil {
		return VerifyReport{}, fileError("verify store", err)
	}
	db, err := openDB(ctx, path, opts)
	if err != nil {
		return VerifyReport{}, fmt.Errorf("verify store %s: %w", path, err)
	}
	s, err := unlock(ctx, db, secret, opts)
	if err != nil {
		db.Close()
		return VerifyReport{}, fmt.Errorf("verify store %s: %w", path, err)
	}
	s.path = path
	defer s.Close()
	return s.Verify(ctx)
}

// Verify checks every authenticated row, the outbox head, the resident digest, the audit
// chain and the anchor file.
func (s *Store) Verify(ctx context.Context) (VerifyReport, error) {
	var r VerifyReport
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return r, classify(err)
	}
	defer tx.Rollback()
	for _, check := range []func(context.Context, *sql.Tx) (TableReport, error){
		s.verifyRegistryKeys, s.verifyOfficers, s.verifyOutbox, s.verifyResidents, s.verifyRegistryLink, s.verifyLimits,
	} {
		t, err := check(ctx, tx)
		if err != nil {
			return r, fmt.Errorf("verify %s: %w", t.Table, err)
		}
		r.Tables = append(r.Tables, t)
	}
	r.AuditEntries, r.Audit = s.VerifyAudit(ctx)
	if r.Audit != nil && !errors.Is(r.Audit, ErrAuditBroken) {
		return r, r.Audit
	}
	switch err := s.anchorStatus(ctx, tx); {
	case errors.Is(err, ErrRolledBack):
		r.Anchor = err
	case err == nil, errors.Is(err, errNoAnchor):
	case errors.Is(err, ErrAuditBroken), errors.Is(err, ErrTampered):
		// a broken head is reported with its table or the audit chain
	default:
		return r, err
	}
	return r, nil
}

func (s *Store) verifyRegistryKeys(ctx context.Context, tx *sql.Tx) (TableReport, error) {
	t := TableReport{Table: "registry_keys"}
	rows, err := tx.QueryContext(ctx, "SELECT kid, public_key, not_before, not_after, mac FROM registry_keys ORDER BY kid")
	if err != nil {
		return t, classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		t.Rows++
		_, err := s.scanRegistryKey(rows)
		if re := rowErr(err); re != nil {
			t.Bad = append(t.Bad, *re)
		} else if err != nil {
			return t, err
		}
	}
	return t, classify(rows.Err())
}

func (s *Store) verifyOfficers(ctx context.Context, tx *sql.Tx) (TableReport, error) {
	t := TableReport{Table: "officers"}
	rows, err := tx.QueryContext(ctx, "SELECT "+officerColumns+" FROM officers ORDER BY id")
	if err != nil {
		return t, classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		t.Rows++
		row, err := scanOfficer(rows)
		if err != nil {
			return t, classify(err)
		}
		if _, err := s.openOfficer(row); rowErr(err) != nil {
			t.Bad = append(t.Bad, *rowErr(err))
		}
	}
	return t, classify(rows.Err())
}

func (s *Store) verifyOutbox(ctx context.Context, tx *sql.Tx) (TableReport, error) {
	t := TableReport{Table: "outbox"}
	rows, err := tx.QueryContext(ctx, "SELECT "+outboxColumns+" FROM outbox ORDER BY seq")
	if err != nil {
		return t, classify(err)
	}
	defer rows.Close()
	next := int64(1)
	for rows.Next() {
		t.Rows++
		row, err := s.scanOutbox(rows)
		if err != nil {
			return t, err
		}
		for ; next < row.seq; next++ {
			t.Bad = append(t.Bad, RowError{Table: "outbox", Row: fmt.Sprint(next), Reason: "missing (record deleted)"})
		}
		next = row.seq + 1
		if _, err := s.openOutbox(row); rowErr(err) != nil {
			t.Bad = append(t.Bad, *rowErr(err))
		}
	}
	if err := rows.Err(); err != nil {
		return t, classify(err)
	}
	if err := s.checkOutboxComplete(ctx, tx); rowErr(err) != nil {
		t.Bad = append(t.Bad, *rowErr(err))
	} else if err != nil {
		return t, err
	}
	return t, nil
}

func (s *Store) verifyResidents(ctx context.Context, tx *sql.Tx) (TableReport, error) {
	t := TableReport{Table: "residents"}
	want, err := s.residentDigest(ctx, tx)
	if re := rowErr(err); re != nil {
		t.Bad = append(t.Bad, *re)
	} else if err != nil {
		return t, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+residentColumns+" FROM residents ORDER BY id")
	if err != nil {
		return t, classify(err)
	}
	defer rows.Close()
	var got residentDigest
	for rows.Next() {
		t.Rows++
		row, err := scanResident(rows)
		if err != nil {
			return t, classify(err)
		}
		if len(row.mac) == sha256.Size {
			got.toggle(row.mac)
		}
		got.count++
		_, err = s.openResident(row)
		if re := rowErr(err); re != nil {
			t.Bad = append(t.Bad, *re)
		} else if err != nil {
			t.Bad = append(t.Bad, RowError{Table: "residents", Row: fmt.Sprint(row.id), Reason: err.Error()})
		}
	}
	if err := rows.Err(); err != nil {
		return t, classify(err)
	}
	if got.count != want.count || got.xor != want.xor {
		t.Bad = append(t.Bad, digestMismatch(got, want))
	}
	return t, nil
}
