package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

var _ kiosk.Residents = (*Store)(nil)

// ResidentByNIK implements kiosk.Residents: the decrypted resident, or an error matching
// kiosk.ErrResidentNotFound.
func (s *Store) ResidentByNIK(ctx context.Context, nik kiosk.NIK) (kiosk.Resident, error) {
	bi := s.keys.blindIndex("nik", string(nik))
	row, err := scanResident(s.db.QueryRowContext(ctx, "SELECT "+residentColumns+" FROM residents WHERE nik_bi = ?", bi))
	if errors.Is(err, sql.ErrNoRows) {
		return kiosk.Resident{}, kiosk.ErrResidentNotFound.With(fmt.Errorf("nik %s", nik.Masked()))
	}
	if err != nil {
		return kiosk.Resident{}, fmt.Errorf("resident %s: %w", nik.Masked(), classify(err))
	}
	r, err := s.openResident(row)
	if err != nil {
		return kiosk.Resident{}, fmt.Errorf("resident %s: %w", nik.Masked(), err)
	}
	if r.NIK != nik {
		return kiosk.Resident{}, fmt.Errorf("resident %s: %w", nik.Masked(), ErrCorrupt.With(errors.New("sealed NIK differs from the row's")))
	}
	if err := checkStoredText(r); err != nil {
		return kiosk.Resident{}, fmt.Errorf("resident %s: %w", nik.Masked(), err)
	}
	return r, nil
}

const residentColumns = "id, nik_bi, kecamatan, version, sealed, mac"

// storedResident is a resident row as stored.
type storedResident struct {
	id              int64
	bi, sealed, mac []byte
	kecamatan       string
	version         int64
}

func scanResident(row interface{ Scan(...any) error }) (storedResident, error) {
	var r storedResident
	err := row.Scan(&r.id, &r.bi, &r.kecamatan, &r.version, &r.sealed, &r.mac)
	return r, err
}

// openResident checks the row's MAC (blind index, kecamatan, version and sealed record bound
// together) and decrypts it; its error is ErrTampered with a *RowError, or ErrCorrupt.
func (s *Store) openResident(row storedResident) (kiosk.Resident, error) {
	name := fmt.Sprint(row.id) // the row number: a blind index is not for people
	if !s.keys.checkRow("residents", residentFields(row.bi, row.kecamatan, row.version, row.sealed), row.mac) {
		return kiosk.Resident{}, tampered("residents", name, "MAC does not match (kecamatan, status or record edited outside the kiosk)")
	}
	plain, err := s.keys.open(row.sealed, residentAAD(row.bi))
	if err != nil {
		return kiosk.Resident{}, tampered("residents", name, err.Error())
	}
	r, err := decodeResident(plain)
	if err != nil {
		return kiosk.Resident{}, ErrCorrupt.With(fmt.Errorf("resident row %s: %w", name, err))
	}
	r.Kecamatan = row.kecamatan
	return r, nil
}

// EachResident calls fn for every resident in the snapshot, for building the 1:N indexes at
// start-up (dlib's references and the modern templates in one pass). It stops at fn's first
// error. Rows that fail their integrity check are skipped, and so is nothing else: the error,
// matching ErrTampered (a *TamperedError), comes after every good row was passed to fn. Since it reads the whole
// snapshot, it also checks the snapshot's sealed digest, which catches a deleted row and an
// older copy of a row put back.
func (s *Store) EachResident(ctx context.Context, fn func(kiosk.Resident) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // the digest and the rows from one snapshot
	if err != nil {
		return fmt.Errorf("residents: %w", classify(err))
	}
	defer tx.Rollback()
	want, err := s.residentDigest(ctx, tx)
	if err != nil {
		return fmt.Errorf("residents: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+residentColumns+" FROM residents")
	if err != nil {
		return fmt.Errorf("residents: %w", classify(err))
	}
	defer rows.Close()
	var (
		bad skipped
		got residentDigest
	)
	for rows.Next() {
		row, err := scanResident(rows)
		if err != nil {
			return fmt.Errorf("residents: %w", classify(err))
		}
		if len(row.mac) == sha256.Size {
			got.toggle(row.mac)
		}
		got.count++
		r, err := s.openResident(row)
		var re *RowError
		if errors.As(err, &re) {
			bad.add(ctx, *re)
			continue
		}
		if err != nil {
			return fmt.Errorf("residents: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("residents: %w", classify(err))
	}
	if got.count != want.count || got.xor != want.xor {
		bad.add(ctx, digestMismatch(got, want))
	}
	if err := bad.err(); err != nil {
		return fmt.Errorf("residents: %w", err)
	}
	return nil
}

func digestMismatch(got, want residentDigest) RowError {
	return RowError{Table: "residents", Row: "snapshot", Reason: fmt.Sprintf(
		"%d rows do not match the sealed digest of %d (rows deleted, or older copies put back)", got.count, want.count)}
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
// the cursor is stored with them. Invalid residents reject the whole delta. ApplyDelta does the
// same together with officers and keys; this remains for imports and demos that carry only
// residents.
func (s *Store) ApplyResidents(ctx context.Context, upserts []kiosk.Resident, removals []kiosk.NIK, cursor string) (SnapshotCounts, error) {
	sealed, err := s.sealResidents(upserts)
	if err != nil {
		return SnapshotCounts{Rejected: 1}, err
	}
	var c SnapshotCounts
	err = s.write(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = s.applyResidents(ctx, tx, sealed, removals, cursor)
		return err
	})
	if err != nil {
		return SnapshotCounts{}, fmt.Errorf("apply residents: %w", err)
	}
	return c, nil
}

// sealResidents validates and seals upserts before any transaction starts (sealing is the
// slow part, and a transaction held open blocks the counter's writes). One invalid resident,
// or a NIK given twice, rejects them all.
func (s *Store) sealResidents(upserts []kiosk.Resident) ([]sealedResident, error) {
	sealed := make([]sealedResident, 0, len(upserts))
	seen := make(map[string]int, len(upserts))
	for i, r := range upserts {
		if err := snapshot.Validate(r); err != nil {
			return nil, fmt.Errorf("resident %d (%s): %w", i+1, r.NIK.Masked(), ErrImportRejected.With(err))
		}
		sr := s.sealResident(r)
		if j, dup := seen[string(sr.bi)]; dup {
			return nil, fmt.Errorf("resident %d: %w", i+1,
				ErrImportRejected.With(fmt.Errorf("same NIK as resident %d", j+1)))
		}
		seen[string(sr.bi)] = i
		sealed = append(sealed, sr)
	}
	return sealed, nil
}

// applyResidents writes removals, then the sealed upserts, then the cursor (if not empty) and
// the digest, inside tx.
func (s *Store) applyResidents(ctx context.Context, tx *sql.Tx, sealed []sealedResident, removals []kiosk.NIK, cursor string) (SnapshotCounts, error) {
	var c SnapshotCounts
	w, err := s.newSnapshotWriter(ctx, tx)
	if err != nil {
		return c, err
	}
	defer w.close()
	for _, n := range removals {
		removed, err := w.remove(ctx, s.keys.blindIndex("nik", string(n)))
		if err != nil {
			return c, err
		}
		if removed {
			c.Removed++
		}
	}
	for _, sr := range sealed {
		if err := w.put(ctx, sr); err != nil {
			return c, err
		}
	}
	c.Added, c.Updated, err = w.finish(ctx, cursor, c.Removed)
	return c, err
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

// snapshotWriter upserts sealed residents inside one transaction with a prepared statement,
// keeps the sealed digest current and counts what was added: the table size before and after,
// since one batch never holds a NIK twice. Every row it writes gets the batch's version.
type snapshotWriter struct {
	s      *Store
	tx     *sql.Tx
	upsert *sql.Stmt
	old    *sql.Stmt
	digest residentDigest
	before int
	puts   int
	now    int64
}

func (s *Store) newSnapshotWriter(ctx context.Context, tx *sql.Tx) (*snapshotWriter, error) {
	w := &snapshotWriter{s: s, tx: tx, now: s.now().UnixNano()}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM residents").Scan(&w.before); err != nil {
		return nil, err
	}
	d, err := s.residentDigest(ctx, tx)
	if err != nil {
		return nil, err
	}
	w.digest = d
	w.digest.version++
	if w.old, err = tx.PrepareContext(ctx, "SELECT mac FROM residents WHERE nik_bi = ?"); err != nil {
		return nil, err
	}
	w.upsert, err = tx.PrepareContext(ctx, `INSERT INTO residents (nik_bi, kecamatan, sealed, updated_at, version, mac)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (nik_bi) DO UPDATE
		SET kecamatan = excluded.kecamatan, sealed = excluded.sealed, updated_at = excluded.updated_at,
			version = excluded.version, mac = excluded.mac`)
	if err != nil {
		w.old.Close()
		return nil, err
	}
	// Last, so that only a writer whose close will shrink it again raises the cache.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", bulkCacheKiB)); err != nil {
		w.old.Close()
		w.upsert.Close()
		return nil, err
	}
	return w, nil
}

// forget takes the row of bi, if any, out of the digest; it reports whether there was one.
func (w *snapshotWriter) forget(ctx context.Context, bi []byte) (bool, error) {
	var mac []byte
	err := w.old.QueryRowContext(ctx, bi).Scan(&mac)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if len(mac) == sha256.Size {
		w.digest.toggle(mac)
	}
	w.digest.count--
	return true, nil
}

func (w *snapshotWriter) put(ctx context.Context, sr sealedResident) error {
	if _, err := w.forget(ctx, sr.bi); err != nil {
		return err
	}
	mac := w.s.keys.rowMAC("residents", residentFields(sr.bi, sr.kecamatan, w.digest.version, sr.sealed))
	if _, err := w.upsert.ExecContext(ctx, sr.bi, sr.kecamatan, sr.sealed, w.now, w.digest.version, mac); err != nil {
		return err
	}
	w.digest.toggle(mac)
	w.digest.count++
	w.puts++
	return nil
}

func (w *snapshotWriter) remove(ctx context.Context, bi []byte) (bool, error) {
	found, err := w.forget(ctx, bi)
	if err != nil || !found {
		return false, err
	}
	_, err = w.tx.ExecContext(ctx, "DELETE FROM residents WHERE nik_bi = ?", bi)
	return err == nil, err
}

// finish stores the cursor and the digest and returns how many residents were added and
// updated, given how many were removed in the same transaction.
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
	if err := setMeta(ctx, w.tx, metaResidentDigest, w.s.keys.encodeResidentDigest(w.digest)); err != nil {
		return 0, 0, err
	}
	return added, w.puts - added, nil
}

func (w *snapshotWriter) close() {
	w.upsert.Close()
	w.old.Close()
	// Back to the small cache before the connection returns to the pool. The transaction may
	// already have failed; a connection left with the large cache only holds more memory.
	if _, err := w.tx.Exec(fmt.Sprintf("PRAGMA cache_size = -%d", readCacheKiB)); err != nil {
		slog.Warn("store: page cache not shrunk after a snapshot write", "err", err)
	}
}
