package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// applicationID marks the file as an IKD registry database ("IKDR") in the SQLite header, so
// a kiosk store or another application's file is refused before anything is written.
const applicationID = 0x494B4452

// OpenSQLite opens (creating it if needed) the registry database in the SQLite file at path
// and migrates it.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open registry database %s: %w", path, err)
	}
	// SQLite creates the -wal and -shm files with the mode of the database file, so a file
	// made private before SQLite sees it keeps all three private whatever the umask.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open registry database %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open registry database %s: %w", path, err)
	}
	w, err := openSQLiteDB(ctx, abs, 1, false)
	if err != nil {
		return nil, fmt.Errorf("open registry database %s: %w", path, err)
	}
	// journal_mode is a property of the file; set it once on the writer before migrating.
	if _, err := w.ExecContext(ctx, "PRAGMA journal_mode = WAL"); err != nil {
		w.Close()
		return nil, fmt.Errorf("open registry database %s: set WAL: %w", path, err)
	}
	if err := makePrivate(abs); err != nil {
		w.Close()
		return nil, fmt.Errorf("open registry database %s: %w", path, err)
	}
	if err := migrateSQLite(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open registry database %s: %w", path, err)
	}
	r, err := openSQLiteDB(ctx, abs, 4, true)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open registry database %s: %w", path, err)
	}
	return &Store{d: &sqliteDialect{w: w, r: r}}, nil
}

// makePrivate sets the database and its -wal and -shm files, those that exist, to mode 0600:
// a file made by an older version (0644) is tightened too. They hold sealed personal data,
// blind indexes and the kiosks' keys.
func makePrivate(abs string) error {
	for _, p := range []string{abs, abs + "-wal", abs + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("make private: %w", err)
		}
	}
	return nil
}

// openSQLiteDB opens a pool of conns connections with the settings every connection needs;
// readers are query_only, so a write on them fails rather than queueing for the write lock.
func openSQLiteDB(ctx context.Context, abs string, conns int, reader bool) (*sql.DB, error) {
	q := url.Values{}
	if reader {
		q.Set("_query_only", "1")
	} else {
		q.Set("_txlock", "immediate") // take the write lock at BEGIN: no upgrade deadlocks
	}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)") // a commit is on disk when it returns
	q.Add("_pragma", "cache_size(-32768)")
	dsn := (&url.URL{Scheme: "file", Path: abs}).String() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// sqliteDialect is the SQLite side: one write connection for every transaction, a pool of
// readers, no locking clauses, prepared statements for batches.
type sqliteDialect struct {
	w *sql.DB // the single write connection: every transaction
	r *sql.DB // readers outside transactions and read transactions
}

// sqliteSQL drops the locking clauses (the write lock covers the whole transaction) and
// spells the mail queue's condition as its partial index mails_due does, so the planner uses it.
var sqliteSQL = &rewriter{fn: strings.NewReplacer(" FOR UPDATE SKIP LOCKED", "", " FOR UPDATE", "",
	"NOT permanent", "permanent = 0").Replace}

func (d *sqliteDialect) begin(ctx context.Context, readOnly bool) (dbTx, error) {
	db, opts := d.w, (*sql.TxOptions)(nil)
	if readOnly {
		db, opts = d.r, &sql.TxOptions{ReadOnly: true}
	}
	t, err := db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &sqliteTx{tx: t}, nil
}

func (d *sqliteDialect) reader() conn                   { return sqliteConn{d.r} }
func (d *sqliteDialect) close() error                   { return errors.Join(d.r.Close(), d.w.Close()) }
func (d *sqliteDialect) backoffStep() time.Duration     { return 5 * time.Millisecond }
func (d *sqliteDialect) isNoRows(err error) bool        { return errors.Is(err, sql.ErrNoRows) }
func (d *sqliteDialect) batchReads() bool               { return false }
func (d *sqliteDialect) ping(ctx context.Context) error { return d.r.PingContext(ctx) }

// retryable: the file is locked by another process past busy_timeout.
func (d *sqliteDialect) retryable(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code() & 0xff
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
}

func (d *sqliteDialect) isConstraint(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// bulkInsert inserts rows in one transaction with a prepared statement.
func (d *sqliteDialect) bulkInsert(ctx context.Context, table string, cols []string, rows [][]any) error {
	t, err := d.begin(ctx, false)
	if err != nil {
		return err
	}
	defer t.rollback(ctx)
	q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")"
	if _, err := t.batch(ctx, q, rows); err != nil {
		return err
	}
	return t.commit(ctx)
}

// sqliteConn runs the shared SQL on the reader pool.
type sqliteConn struct{ db *sql.DB }

func (c sqliteConn) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := c.db.ExecContext(ctx, sqliteSQL.rewrite(q), args...)
	return rowsAffected(res, err)
}

func (c sqliteConn) query(ctx context.Context, q string, args ...any) (rows, error) {
	r, err := c.db.QueryContext(ctx, sqliteSQL.rewrite(q), args...)
	if err != nil {
		return nil, err
	}
	return sqliteRows{r}, nil
}

func (c sqliteConn) queryRow(ctx context.Context, q string, args ...any) row {
	return sqliteRow{c.db.QueryRowContext(ctx, sqliteSQL.rewrite(q), args...)}
}

// sqliteTx is a transaction on the write connection (or, read-only, a reader).
type sqliteTx struct {
	tx *sql.Tx
	// stmts are the statements this transaction prepared, by text. A batch of records runs
	// the same few statements for every record, and preparing (parsing) each statement anew
	// was a large part of ingest's time; they are closed with the transaction.
	stmts map[string]*sql.Stmt
}

func (t *sqliteTx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(ctx, sqliteSQL.rewrite(q))
	if err != nil {
		return nil, err
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[q] = st
	return st, nil
}

func (t *sqliteTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return 0, err
	}
	return rowsAffected(st.ExecContext(ctx, args...))
}

func (t *sqliteTx) query(ctx context.Context, q string, args ...any) (rows, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	r, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	return sqliteRows{r}, nil
}

func (t *sqliteTx) queryRow(ctx context.Context, q string, args ...any) row {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return errRow{err}
	}
	return sqliteRow{st.QueryRowContext(ctx, args...)}
}

// batch runs q's prepared statement once per argument list.
func (t *sqliteTx) batch(ctx context.Context, q string, args [][]any) ([]int64, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	n := make([]int64, len(args))
	for i, a := range args {
		if n[i], err = rowsAffected(st.ExecContext(ctx, a...)); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// pipeline runs the statements one after another.
func (t *sqliteTx) pipeline(ctx context.Context, stmts []stmt) ([]int64, error) {
	n := make([]int64, len(stmts))
	for i, s := range stmts {
		var err error
		if n[i], err = t.exec(ctx, s.q, s.args...); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func (t *sqliteTx) commit(context.Context) error { return t.tx.Commit() }
func (t *sqliteTx) rollback(context.Context)     { t.tx.Rollback() }

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// sqliteRow and sqliteRows scan byte slices through blob.
type sqliteRow struct{ r *sql.Row }

func (r sqliteRow) Scan(dest ...any) error { return r.r.Scan(blobs(dest)...) }

type sqliteRows struct{ r *sql.Rows }

func (r sqliteRows) Next() bool             { return r.r.Next() }
func (r sqliteRows) Scan(dest ...any) error { return r.r.Scan(blobs(dest)...) }
func (r sqliteRows) Err() error             { return r.r.Err() }
func (r sqliteRows) Close()                 { r.r.Close() }

// blobs wraps each *[]byte of dest in blob.
func blobs(dest []any) []any {
	for i, d := range dest {
		if p, ok := d.(*[]byte); ok {
			dest[i] = blob{p}
		}
	}
	return dest
}

// blob scans a BLOB keeping nil (NULL) and empty apart: the driver hands both a zero-length
// blob and NULL over as nil, the first typed []byte, the second untyped.
type blob struct{ p *[]byte }

func (b blob) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*b.p = nil
	case []byte:
		*b.p = append([]byte{}, v...)
	case string:
		*b.p = []byte(v)
	default:
		return fmt.Errorf("scan %T into bytes", src)
	}
	return nil
}

// migrateSQLite identifies the file and brings its schema up to date. An empty file becomes
// a registry database; a file of another application, or of a newer registry, is refused.
func migrateSQLite(ctx context.Context, db *sql.DB) error {
	var appID, version int64
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return fmt.Errorf("read application_id: %w", err)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read user_version: %w", err)
	}
	steps := schema(dbSQLite)
	switch {
	case appID == 0 && version == 0:
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
			return fmt.Errorf("inspect schema: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("%w: the file has %d tables and no IKD registry application_id", ErrForeignFile, n)
		}
	case appID != applicationID:
		return fmt.Errorf("%w: application_id %#x, want %#x", ErrForeignFile, appID, applicationID)
	case version > int64(len(steps)):
		return fmt.Errorf("%w: schema version %d, this program knows up to %d", ErrNewerSchema, version, len(steps))
	}
	for v := version; v < int64(len(steps)); v++ {
		if err := sqliteStep(ctx, db, v, steps[v]); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
	}
	return nil
}

// sqliteStep runs migration v (taking the schema to v+1) in one transaction.
func sqliteStep(ctx context.Context, db *sql.DB, v int64, step string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Another process may have migrated while this one waited for the write lock.
	var cur int64
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil {
		return err
	}
	if cur != v {
		return nil
	}
	if _, err := tx.ExecContext(ctx, step); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return err
	}
	return tx.Commit()
}
