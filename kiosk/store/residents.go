package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

var _ kiosk.Residents = (*Store)(nil)

// ResidentByNIK implements kiosk.Residents: the decrypted resident, or an error matching
// kiosk.ErrResidentNotFound.
func (s *Store) ResidentByNIK(ctx context.Context, nik kiosk.NIK) (kiosk.Resident, error) {
	bi := s.keys.blindIndex("nik", string(nik))
	var (
		kecamatan string
		sealed    []byte
	)
	err := s.db.QueryRowContext(ctx, "SELECT kecamatan, sealed FROM residents WHERE nik_bi = ?", bi).
		Scan(&kecamatan, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return kiosk.Resident{}, kiosk.ErrResidentNotFound.With(fmt.Errorf("nik %s", nik.Masked()))
	}
	if err != nil {
		return kiosk.Resident{}, fmt.Errorf("resident %s: %w", nik.Masked(), classify(err))
	}
	plain, err := s.keys.open(sealed, residentAAD(bi))
	if err != nil {
		return kiosk.Resident{}, fmt.Errorf("resident %s: %w", nik.Masked(), err)
	}
	r, err := decodeResident(plain)
	if err != nil {
		return kiosk.Resident{}, fmt.Errorf("resident %s: %w", nik.Masked(), ErrCorrupt.With(err))
	}
	if r.NIK != nik {
		return kiosk.Resident{}, fmt.Errorf("resident %s: %w", nik.Masked(), ErrCorrupt.With(errors.New("sealed NIK differs from the row's")))
	}
	r.Kecamatan = kecamatan
	return r, nil
}

// References calls fn for every reference descriptor in the snapshot, with its resident's
// NIK, for building the 1:N index at start-up. It stops at fn's first error.
func (s *Store) References(ctx context.Context, fn func(kiosk.NIK, kiosk.Descriptor) error) error {
	rows, err := s.db.QueryContext(ctx, "SELECT nik_bi, sealed FROM residents")
	if err != nil {
		return fmt.Errorf("references: %w", classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var bi, sealed []byte
		if err := rows.Scan(&bi, &sealed); err != nil {
			return fmt.Errorf("references: %w", classify(err))
		}
		plain, err := s.keys.open(sealed, residentAAD(bi))
		if err != nil {
			return fmt.Errorf("references: %w", err)
		}
		r, err := decodeResident(plain)
		if err != nil {
			return fmt.Errorf("references: %w", ErrCorrupt.With(err))
		}
		for _, d := range r.References {
			if err := fn(r.NIK, d); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("references: %w", classify(err))
	}
	return nil
}

// ResidentCount is the number of residents in the snapshot.
func (s *Store) ResidentCount(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM residents").Scan(&n); err != nil {
		return 0, fmt.Errorf("count residents: %w", classify(err))
	}
	return n, nil
}

// SnapshotCursor is the registry's cursor the resident snapshot is current to ("" if never
// synced); the next pull asks for changes since it.
func (s *Store) SnapshotCursor(ctx context.Context) (string, error) {
	v, err := getMeta(ctx, s.db, metaResidentCursor)
	return string(v), err
}

// SnapshotCounts reports what an import or a delta changed.
type SnapshotCounts struct {
	Added, Updated, Removed, Rejected int
}

// ApplyResidents applies a snapshot delta in one transaction: upserts replace residents with
// the same NIK (snapshot semantics), removals drop residents that left the service area, and
// the cursor is stored with them. Invalid residents reject the whole delta.
func (s *Store) ApplyResidents(ctx context.Context, upserts []kiosk.Resident, removals []kiosk.NIK, cursor string) (SnapshotCounts, error) {
	sealed := make([]sealedResident, 0, len(upserts))
	seen := make(map[string]int, len(upserts))
	for i, r := range upserts {
		if err := snapshot.Validate(r); err != nil {
			return SnapshotCounts{Rejected: 1}, fmt.Errorf("resident %d (%s): %w", i+1, r.NIK.Masked(), err)
		}
		sr := s.sealResident(r)
		if j, dup := seen[string(sr.bi)]; dup {
			return SnapshotCounts{Rejected: 1}, fmt.Errorf("resident %d: %w", i+1,
				ErrImportRejected.With(fmt.Errorf("same NIK as resident %d", j+1)))
		}
		seen[string(sr.bi)] = i
		sealed = append(sealed, sr)
	}
	var c SnapshotCounts
	err := s.write(ctx, func(tx *sql.Tx) error {
		w, err := s.newSnapshotWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.close()
		for _, n := range removals {
			res, err := tx.ExecContext(ctx, "DELETE FROM residents WHERE nik_bi = ?", s.keys.blindIndex("nik", string(n)))
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			c.Removed += int(k)
		}
		for _, sr := range sealed {
			if err := w.put(ctx, sr); err != nil {
				return err
			}
		}
		c.Added, c.Updated, err = w.finish(ctx, cursor, c.Removed)
		return err
	})
	if err != nil {
		return SnapshotCounts{}, fmt.Errorf("apply residents: %w", err)
	}
	return c, nil
}

// sealedResident is a resident ready to store: only the blind index and kecamatan are plain.
type sealedResident struct {
	bi        []byte
	kecamatan string
	sealed    []byte
}

func residentAAD(bi []byte) []byte { return append([]byte("resident\x00"), bi...) }

func (s *Store) sealResident(r kiosk.Resident) sealedResident {
	bi := s.keys.blindIndex("nik", string(r.NIK))
	return sealedResident{bi: bi, kecamatan: r.Kecamatan, sealed: s.keys.seal(encodeResident(r), residentAAD(bi))}
}

// snapshotWriter upserts sealed residents inside one transaction with a prepared statement
// and counts what was added: the table size before and after, since one batch never holds a
// NIK twice.
type snapshotWriter struct {
	tx     *sql.Tx
	upsert *sql.Stmt
	before int
	puts   int
	now    int64
}

func (s *Store) newSnapshotWriter(ctx context.Context, tx *sql.Tx) (*snapshotWriter, error) {
	w := &snapshotWriter{tx: tx, now: s.now().UnixNano()}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM residents").Scan(&w.before); err != nil {
		return nil, err
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO residents (nik_bi, kecamatan, sealed, updated_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (nik_bi) DO UPDATE
		SET kecamatan = excluded.kecamatan, sealed = excluded.sealed, updated_at = excluded.updated_at`)
	if err != nil {
		return nil, err
	}
	w.upsert = stmt
	return w, nil
}

func (w *snapshotWriter) put(ctx context.Context, sr sealedResident) error {
	if _, err := w.upsert.ExecContext(ctx, sr.bi, sr.kecamatan, sr.sealed, w.now); err != nil {
		return err
	}
	w.puts++
	return nil
}

// finish stores the cursor and returns how many residents were added and updated, given how
// many were removed in the same transaction.
func (w *snapshotWriter) finish(ctx context.Context, cursor string, removed int) (added, updated int, err error) {
	var after int
	if err := w.tx.QueryRowContext(ctx, "SELECT count(*) FROM residents").Scan(&after); err != nil {
		return 0, 0, err
	}
	added = after - w.before + removed
	if cursor != "" {
		if err := setMeta(ctx, w.tx, metaResidentCursor, []byte(cursor)); err != nil {
			return 0, 0, err
		}
	}
	return added, w.puts - added, nil
}

func (w *snapshotWriter) close() { w.upsert.Close() }
