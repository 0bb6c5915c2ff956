// Package sqlitestore is the registry's embedded database: a registry.Store on one SQLite
// file (modernc.org/sqlite, pure Go). It is the default for a single registry process; several
// processes should share a PostgreSQL database (pgstore) instead.
//
// Writes are serial: every transaction runs on the one write connection and starts with
// BEGIN IMMEDIATE, so the read-then-write rules above the Store never meet a lock upgrade
// deadlock, and the locking reads of registry.Tx are plain reads. Reads outside transactions
// (Stats, MailBacklog, Ping) and read transactions (InReadTx) use a separate pool of
// query_only connections and, with WAL, never wait for the writer.
//
// Times are stored as INTEGER Unix nanoseconds (0 is the zero time.Time); bytes as BLOBs.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/internal/storeutil"
	"github.com/ikd-field/ikd/sync/registry/mail"
)

// Errors of Open.
var (
	ErrForeignFile = errors.New("sqlitestore: not an IKD registry database")
	ErrNewerSchema = errors.New("sqlitestore: database schema is newer than this program")
)

// maxAttempts bounds how often InTx runs fn when the file is busy (another process holds the
// write lock past busy_timeout).
const maxAttempts = 10

// Store is a registry.Store on a SQLite file.
type Store struct {
	w *sql.DB // the single write connection: every transaction
	r *sql.DB // readers outside transactions
}

var _ registry.Store = (*Store)(nil)

// Open opens (creating it if needed) the registry database at path and migrates it.
func Open(ctx context.Context, path string) (*Store, error) {
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
	w, err := openDB(ctx, abs, 1, false)
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
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open registry database %s: %w", path, err)
	}
	r, err := openDB(ctx, abs, 4, true)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open registry database %s: %w", path, err)
	}
	return &Store{w: w, r: r}, nil
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

// openDB opens a pool of conns connections with the settings every connection needs;
// readers are query_only, so a write on them fails rather than queueing for the write lock.
func openDB(ctx context.Context, abs string, conns int, reader bool) (*sql.DB, error) {
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

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// Ping checks that the file answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping registry database: %w", err)
	}
	return nil
}

// isBusy reports whether err is SQLite's "the file is locked" (by another process).
func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code() & 0xff
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
}

// isConstraint reports whether err is a uniqueness/constraint violation.
func isConstraint(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// InTx runs fn in an immediate transaction on the write connection, again (up to maxAttempts)
// when the file is busy.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx registry.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = s.inTx(ctx, fn)
		if err == nil || !isBusy(err) || attempt == maxAttempts {
			return err
		}
		if werr := backoff(ctx, attempt); werr != nil {
			return errors.Join(err, werr)
		}
	}
}

func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, tx registry.Tx) error) error {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer sqlTx.Rollback()
	if err := fn(ctx, &tx{tx: sqlTx}); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// InReadTx runs fn in a deferred read-only transaction on the reader pool: one snapshot of
// the file, taken without the write lock.
func (s *Store) InReadTx(ctx context.Context, fn func(ctx context.Context, tx registry.ReadTx) error) error {
	sqlTx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer sqlTx.Rollback()
	if err := fn(ctx, &tx{tx: sqlTx}); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit read: %w", err)
	}
	return nil
}

// write runs one statement group as its own transaction (the queue methods), retried like InTx.
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.InTx(ctx, func(ctx context.Context, t registry.Tx) error { return fn(t.(*tx).tx) })
}

// backoff waits before attempt+1 of a transaction.
func backoff(ctx context.Context, attempt int) error {
	return storeutil.Backoff(ctx, attempt, 5*time.Millisecond)
}

// Times are stored as Unix nanoseconds, the zero time as 0.
var (
	ns = storeutil.UnixNano
	tm = storeutil.FromUnixNano
)

// Stats counts what the registry holds.
func (s *Store) Stats(ctx context.Context) (registry.Stats, error) {
	var st registry.Stats
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM devices),
		(SELECT count(*) FROM registrations),
		(SELECT count(*) FROM records WHERE kind = 'activation' AND status = 1),
		(SELECT count(*) FROM records WHERE kind = 'deactivation' AND status = 1),
		(SELECT count(*) FROM mails WHERE sent_at IS NOT NULL),
		(SELECT count(*) FROM mails WHERE sent_at IS NULL AND permanent = 0)`).
		Scan(&st.Devices, &st.Registrations, &st.ActivationsAccepted, &st.Deactivations, &st.MailsSent, &st.MailsQueued)
	if err != nil {
		return registry.Stats{}, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}

// MailBacklog counts the mails waiting to be sent (neither sent nor failed for good).
func (s *Store) MailBacklog(ctx context.Context) (int64, time.Time, error) {
	var n, oldest int64
	err := s.r.QueryRowContext(ctx, `SELECT count(*), coalesce(min(created_at), 0) FROM mails
		WHERE sent_at IS NULL AND permanent = 0`).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("mail backlog: %w", err)
	}
	return n, tm(oldest), nil
}

// BulkInsertRecords inserts recs in one transaction with a prepared statement.
func (s *Store) BulkInsertRecords(ctx context.Context, recs []registry.StoredRecord) error {
	return s.write(ctx, func(t *sql.Tx) error {
		st, err := t.PrepareContext(ctx, insertRecordSQL)
		if err != nil {
			return fmt.Errorf("bulk insert records: %w", err)
		}
		defer st.Close()
		for _, r := range recs {
			if _, err := st.ExecContext(ctx, recordArgs(r)...); err != nil {
				if isConstraint(err) {
					err = fmt.Errorf("%w: %w", registry.ErrExists, err)
				}
				return fmt.Errorf("bulk insert record %s: %w", r.ID, err)
			}
		}
		return nil
	})
}

// Claim leases up to limit due mails for lease.
// The mail carries the activation record of its registration (the receipt's reference), read
// here rather than stored twice.
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]mail.Mail, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []mail.Mail
	err := s.write(ctx, func(t *sql.Tx) error {
		out = out[:0]
		rows, err := t.QueryContext(ctx, `UPDATE mails SET leased_until = ?
			WHERE id IN (SELECT id FROM mails
				WHERE sent_at IS NULL AND permanent = 0 AND next_attempt <= ? AND leased_until <= ?
				ORDER BY next_attempt, created_at, id LIMIT ?)
			RETURNING id, to_addr, code, registration_id, expires_at, attempts, created_at, replaces,
			coalesce((SELECT activation_record FROM registrations WHERE registrations.id = mails.registration_id), '')`,
			ns(now.Add(lease)), ns(now), ns(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m mail.Mail
			var exp, created int64
			if err := rows.Scan(&m.ID, &m.To, &m.Code, &m.RegistrationID, &exp, &m.Attempts, &created, &m.Replaces, &m.RecordID); err != nil {
				return err
			}
			m.ExpiresAt, m.CreatedAt = tm(exp), tm(created)
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim mails: %w", err)
	}
	sortMails(out)
	return out, nil
}

// Sent marks mail id delivered (keeping the first delivery time) and forgets its code.
func (s *Store) Sent(ctx context.Context, id string, at time.Time) error {
	return s.write(ctx, func(t *sql.Tx) error {
		res, err := t.ExecContext(ctx, `UPDATE mails SET sent_at = coalesce(sent_at, ?), code = '', leased_until = 0
			WHERE id = ?`, ns(at), id)
		return affected(res, err, "mail sent "+id)
	})
}

// Failed records a failed attempt of mail id; a permanent failure forgets the code, which
// will never be sent.
func (s *Store) Failed(ctx context.Context, id string, at, next time.Time, reason string, permanent bool) error {
	return s.write(ctx, func(t *sql.Tx) error {
		res, err := t.ExecContext(ctx, `UPDATE mails SET attempts = attempts + 1, next_attempt = ?,
			leased_until = 0, last_error = ?, permanent = ?, code = CASE WHEN ? THEN '' ELSE code END
			WHERE id = ? AND sent_at IS NULL`,
			ns(next), reason, permanent, permanent, id)
		if err != nil {
			return fmt.Errorf("mail failed %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// Either unknown or already sent (a late failure report after a success is moot).
			var one int
			if err := t.QueryRowContext(ctx, `SELECT 1 FROM mails WHERE id = ?`, id).Scan(&one); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("mail failed %s: %w", id, registry.ErrNotFound)
				}
				return fmt.Errorf("mail failed %s: %w", id, err)
			}
		}
		return nil
	})
}

// affected turns an UPDATE's result into ErrNotFound when it touched no row.
func affected(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	return nil
}

// sortMails orders a claim by creation then id: RETURNING order is unspecified.
func sortMails(ms []mail.Mail) {
	slices.SortFunc(ms, func(a, b mail.Mail) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
