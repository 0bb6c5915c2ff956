// Package sqlstore is the registry's database: one registry.Store over the SQL that SQLite
// and PostgreSQL share, with a small dialect for what differs.
//
// SQLite (OpenSQLite, modernc.org/sqlite, pure Go) is the default for a single registry
// process. Its writes are serial: every transaction runs on the one write connection and
// starts with BEGIN IMMEDIATE, so the read-then-write rules above the Store never meet a lock
// upgrade deadlock and the locking reads of registry.Tx are plain reads. Reads outside
// transactions and read transactions use a separate pool of query_only connections and, with
// WAL, never wait for the writer.
//
// PostgreSQL (OpenPostgres, pgx v5 with its own pool) serves several registry processes on
// one database: schema migrations run once under an advisory lock, the mail queue is claimed
// with FOR UPDATE SKIP LOCKED and a lease, and change numbers come from a one-row counter
// whose row lock orders them by commit. Transactions are READ COMMITTED; the locking reads are
// SELECT ... FOR UPDATE, and InTx runs fn again on serialization failures and deadlocks.
//
// The shared SQL is written with ? placeholders and PostgreSQL's locking clauses; each
// dialect rewrites a statement once (dialect.rewrite). Times are 64-bit Unix nanoseconds
// (0 is the zero time.Time).
package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/internal/storeutil"
	"github.com/ikd-field/ikd/sync/registry/mail"
)

// Errors of Open.
var (
	ErrForeignFile = errors.New("sqlstore: not an IKD registry database")
	ErrNewerSchema = errors.New("sqlstore: database schema is newer than this program")
)

// The databases, as schemaWords names them.
const (
	dbPostgres = "postgres"
	dbSQLite   = "sqlite"
)

// maxAttempts bounds how often InTx runs fn after conflicts with other transactions (or, on
// SQLite, another process holding the write lock past busy_timeout).
const maxAttempts = 10

// conn runs the shared SQL: a transaction, or a pool outside one. Statements use ?
// placeholders; the dialect's conn rewrites them.
type conn interface {
	exec(ctx context.Context, q string, args ...any) (affected int64, err error)
	query(ctx context.Context, q string, args ...any) (rows, error)
	queryRow(ctx context.Context, q string, args ...any) row
}

type row interface{ Scan(dest ...any) error }

// stmt is a statement of a pipeline and its arguments.
type stmt struct {
	q    string
	args []any
}

// repeated is q once per argument list, as a pipeline's statements.
func repeated(q string, args [][]any) []stmt {
	stmts := make([]stmt, len(args))
	for i, a := range args {
		stmts[i] = stmt{q, a}
	}
	return stmts
}

type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// dbTx is one database transaction.
type dbTx interface {
	conn
	// batch runs q once per argument list, in order, and returns the rows each changed: one
	// round trip on PostgreSQL, a prepared statement on SQLite.
	batch(ctx context.Context, q string, args [][]any) ([]int64, error)
	// pipeline runs the statements in order and returns the rows each changed: one round
	// trip on PostgreSQL.
	pipeline(ctx context.Context, stmts []stmt) ([]int64, error)
	commit(ctx context.Context) error
	rollback(ctx context.Context)
}

// dialect is what differs between the databases beyond the SQL text.
type dialect interface {
	// begin starts a write transaction, or a read-only one on one snapshot.
	begin(ctx context.Context, readOnly bool) (dbTx, error)
	// reader runs reads outside transactions.
	reader() conn
	ping(ctx context.Context) error
	close() error
	// retryable reports a conflict after which running the transaction again may succeed.
	retryable(err error) bool
	isConstraint(err error) bool
	isNoRows(err error) bool
	backoffStep() time.Duration
	// bulkInsert writes rows into table without conflict handling.
	bulkInsert(ctx context.Context, table string, cols []string, rows [][]any) error
	// batchReads reports whether the store offers registry.BatchTx: where each statement
	// is a round trip. Its queries use = ANY(array), which only PostgreSQL has.
	batchReads() bool
}

// Store is a registry.Store on a SQL database.
type Store struct {
	d dialect
}

var _ registry.Store = (*Store)(nil)

// Close closes the database.
func (s *Store) Close() error { return s.d.close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.d.ping(ctx); err != nil {
		return fmt.Errorf("ping registry database: %w", err)
	}
	return nil
}

// InTx runs fn in a write transaction, again (up to maxAttempts, with a jittered backoff)
// after a conflict with another transaction.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx registry.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.inTx(ctx, fn)
		if err == nil || !s.d.retryable(err) || attempt == maxAttempts {
			return err
		}
		if werr := storeutil.Backoff(ctx, attempt, s.d.backoffStep()); werr != nil {
			return errors.Join(err, werr)
		}
	}
}

func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, tx registry.Tx) error) error {
	dt, err := s.d.begin(ctx, false)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer dt.rollback(context.WithoutCancel(ctx))
	if s.d.batchReads() {
		dt = &deferringTx{dbTx: dt}
	}
	if err := fn(ctx, s.tx(dt)); err != nil {
		return err
	}
	if err := dt.commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// InReadTx runs fn in a read-only transaction on one snapshot: the reads of a pull agree, and
// a read-only transaction never fails for serialization.
func (s *Store) InReadTx(ctx context.Context, fn func(ctx context.Context, tx registry.ReadTx) error) error {
	dt, err := s.d.begin(ctx, true)
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer dt.rollback(context.WithoutCancel(ctx))
	if err := fn(ctx, s.tx(dt)); err != nil {
		return err
	}
	if err := dt.commit(ctx); err != nil {
		return fmt.Errorf("commit read: %w", err)
	}
	return nil
}

// tx wraps dt as a registry.Tx, a BatchTx where the dialect offers one.
func (s *Store) tx(dt dbTx) registry.Tx {
	t := &tx{c: dt, d: s.d}
	if s.d.batchReads() {
		return &batchTx{t}
	}
	return t
}

// write runs one statement group as its own transaction (the queue methods), retried like InTx.
func (s *Store) write(ctx context.Context, fn func(t *tx) error) error {
	return s.InTx(ctx, func(ctx context.Context, rt registry.Tx) error {
		if bt, ok := rt.(*batchTx); ok {
			return fn(bt.tx)
		}
		return fn(rt.(*tx))
	})
}

// Times are stored as Unix nanoseconds, the zero time as 0.
var (
	ns = storeutil.UnixNano
	tm = storeutil.FromUnixNano
)

// Stats counts what the registry holds.
func (s *Store) Stats(ctx context.Context) (registry.Stats, error) {
	var st registry.Stats
	err := s.d.reader().queryRow(ctx, `SELECT
		(SELECT count(*) FROM devices),
		(SELECT count(*) FROM registrations),
		(SELECT count(*) FROM records WHERE kind = 'activation' AND status = 1),
		(SELECT count(*) FROM records WHERE kind = 'deactivation' AND status = 1),
		(SELECT count(*) FROM mails WHERE sent_at IS NOT NULL),
		(SELECT count(*) FROM mails WHERE sent_at IS NULL AND NOT permanent)`).
		Scan(&st.Devices, &st.Registrations, &st.ActivationsAccepted, &st.Deactivations, &st.MailsSent, &st.MailsQueued)
	if err != nil {
		return registry.Stats{}, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}

// MailBacklog counts the mails waiting to be sent (neither sent nor failed for good).
func (s *Store) MailBacklog(ctx context.Context) (int64, time.Time, error) {
	var n, oldest int64
	err := s.d.reader().queryRow(ctx, `SELECT count(*), coalesce(min(created_at), 0) FROM mails
		WHERE sent_at IS NULL AND NOT permanent`).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("mail backlog: %w", err)
	}
	return n, tm(oldest), nil
}

// BulkInsertRecords writes recs without conflict handling: a duplicate id fails the lot.
func (s *Store) BulkInsertRecords(ctx context.Context, recs []registry.StoredRecord) error {
	if len(recs) == 0 {
		return nil
	}
	args := make([][]any, len(recs))
	for i, r := range recs {
		args[i] = recordArgs(r)
	}
	err := s.d.bulkInsert(ctx, "records", recordCols, args)
	if s.d.isConstraint(err) {
		return fmt.Errorf("bulk insert %d records: %w: %w", len(recs), registry.ErrExists, err)
	}
	if err != nil {
		return fmt.Errorf("bulk insert %d records: %w", len(recs), err)
	}
	return nil
}

// Claim leases up to limit due mails for lease. SKIP LOCKED lets concurrent claimers (in
// other processes) take other mails instead of waiting. The mail carries the activation
// record of its registration (the receipt's reference), read here rather than stored twice.
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]mail.Mail, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []mail.Mail
	err := s.write(ctx, func(t *tx) error {
		out = out[:0]
		rows, err := t.c.query(ctx, `UPDATE mails SET leased_until = ?
			WHERE id IN (SELECT id FROM mails
				WHERE sent_at IS NULL AND NOT permanent AND next_attempt <= ? AND leased_until <= ?
				ORDER BY next_attempt, created_at, id LIMIT ? FOR UPDATE SKIP LOCKED)
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
	// RETURNING order is unspecified; callers get creation order.
	slices.SortFunc(out, func(a, b mail.Mail) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Renew moves the lease of the mails ids still leased until held to until, in one
// transaction, and returns those it moved.
func (s *Store) Renew(ctx context.Context, ids []string, held, until time.Time) ([]string, error) {
	var out []string
	err := s.write(ctx, func(t *tx) error {
		out = out[:0]
		for _, id := range ids {
			n, err := t.c.exec(ctx, `UPDATE mails SET leased_until = ?
				WHERE id = ? AND leased_until = ? AND sent_at IS NULL AND NOT permanent`, ns(until), id, ns(held))
			if err != nil {
				return err
			}
			if n == 1 {
				out = append(out, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("renew mail lease: %w", err)
	}
	return out, nil
}

// Sent marks mail id delivered (keeping the first delivery time) and forgets its code.
func (s *Store) Sent(ctx context.Context, id string, at time.Time) error {
	return s.write(ctx, func(t *tx) error {
		n, err := t.c.exec(ctx, `UPDATE mails SET sent_at = coalesce(sent_at, ?), code = '', leased_until = 0
			WHERE id = ?`, ns(at), id)
		return affected(n, err, "mail sent "+id)
	})
}

// Failed records a failed attempt of mail id; a permanent failure forgets the code, which
// will never be sent. A failure reported after the mail was sent (a late duplicate) changes
// nothing.
func (s *Store) Failed(ctx context.Context, id string, at, next time.Time, reason string, permanent bool) error {
	return s.write(ctx, func(t *tx) error {
		n, err := t.c.exec(ctx, `UPDATE mails SET attempts = attempts + 1, next_attempt = ?,
			leased_until = 0, last_error = ?, permanent = ?, code = CASE WHEN ? THEN '' ELSE code END
			WHERE id = ? AND sent_at IS NULL`,
			ns(next), reason, permanent, permanent, id)
		if err != nil {
			return fmt.Errorf("mail failed %s: %w", id, err)
		}
		if n == 0 {
			// Either unknown or already sent.
			var one int
			if err := t.c.queryRow(ctx, `SELECT 1 FROM mails WHERE id = ?`, id).Scan(&one); err != nil {
				return t.notFound(err, "mail failed "+id)
			}
		}
		return nil
	})
}

// affected turns an UPDATE's result into ErrNotFound when it touched no row.
func affected(n int64, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	return nil
}

// rewriter rewrites each statement text once and remembers the result.
type rewriter struct {
	fn    func(string) string
	cache sync.Map
}

func (r *rewriter) rewrite(q string) string {
	if v, ok := r.cache.Load(q); ok {
		return v.(string)
	}
	out := r.fn(q)
	r.cache.Store(q, out)
	return out
}
