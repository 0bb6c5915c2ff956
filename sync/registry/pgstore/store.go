// Package pgstore is the registry's production database: a registry.Store on PostgreSQL
// (pgx v5 with its own pool). Several registry processes may share one database: schema
// migrations run once under an advisory lock, the mail queue is claimed with
// FOR UPDATE SKIP LOCKED and a lease, and change numbers come from a one-row counter whose
// row lock orders them by commit.
//
// Transactions are READ COMMITTED; the locking reads of registry.Tx are SELECT ... FOR UPDATE,
// and InTx runs fn again on serialization failures and deadlocks. Times are BIGINT Unix
// nanoseconds (0 is the zero time.Time); bytes are BYTEA.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/internal/storeutil"
	"github.com/ikd-field/ikd/sync/registry/mail"
)

// maxAttempts bounds how often InTx runs fn after conflicts with other transactions.
const maxAttempts = 10

// Store is a registry.Store on a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
}

var _ registry.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or key=value DSN), checks that it
// answers and migrates its schema. The pool has 20 connections unless url sets
// pool_max_conns; the connect timeout is 10 s unless url sets connect_timeout.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn's parse error already hides the password.
		return nil, fmt.Errorf("open registry database: %w", err)
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default (the CPU count, at least 4) is too few for 50 kiosks whose
		// transactions mostly wait for commits to reach the disk; more connections let
		// PostgreSQL group those commits.
		cfg.MaxConns = 20
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// A server that drops packets must not hang the registry's start.
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open registry database %s: %w", where, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open registry database %s: %w", where, err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open registry database %s: %w", where, err)
	}
	return &Store{pool: pool}, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping registry database: %w", err)
	}
	return nil
}

// retryable reports whether PostgreSQL aborted the transaction for a conflict with another
// one, so that running it again may succeed.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// isConstraint reports a unique_violation.
func isConstraint(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// InTx runs fn in a READ COMMITTED transaction, again (up to maxAttempts, with a jittered
// backoff) after a serialization failure or deadlock.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx registry.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.inTx(ctx, fn)
		if err == nil || !retryable(err) || attempt == maxAttempts {
			return err
		}
		if werr := backoff(ctx, attempt); werr != nil {
			return errors.Join(err, werr)
		}
	}
}

func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, tx registry.Tx) error) error {
	pgTx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer pgTx.Rollback(context.WithoutCancel(ctx))
	if err := fn(ctx, &tx{tx: pgTx}); err != nil {
		return err
	}
	if err := pgTx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// InReadTx runs fn in a READ ONLY REPEATABLE READ transaction: the reads of a pull see one
// snapshot, and a read-only transaction never fails for serialization.
func (s *Store) InReadTx(ctx context.Context, fn func(ctx context.Context, tx registry.ReadTx) error) error {
	pgTx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer pgTx.Rollback(context.WithoutCancel(ctx))
	if err := fn(ctx, &tx{tx: pgTx}); err != nil {
		return err
	}
	if err := pgTx.Commit(ctx); err != nil {
		return fmt.Errorf("commit read: %w", err)
	}
	return nil
}

// backoff waits before attempt+1 of a transaction.
func backoff(ctx context.Context, attempt int) error {
	return storeutil.Backoff(ctx, attempt, 2*time.Millisecond)
}

// Times are stored as Unix nanoseconds, the zero time as 0.
var (
	ns = storeutil.UnixNano
	tm = storeutil.FromUnixNano
)

// Stats counts what the registry holds.
func (s *Store) Stats(ctx context.Context) (registry.Stats, error) {
	var st registry.Stats
	err := s.pool.QueryRow(ctx, `SELECT
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
	err := s.pool.QueryRow(ctx, `SELECT count(*), coalesce(min(created_at), 0) FROM mails
		WHERE sent_at IS NULL AND NOT permanent`).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("mail backlog: %w", err)
	}
	return n, tm(oldest), nil
}

// BulkInsertRecords writes recs with COPY: no conflict handling, a duplicate id fails the lot.
func (s *Store) BulkInsertRecords(ctx context.Context, recs []registry.StoredRecord) error {
	if len(recs) == 0 {
		return nil
	}
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{"records"},
		[]string{"id", "kiosk_id", "kind", "registration_id", "nik", "at", "received_at", "status", "code", "winner", "envelope"},
		pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) { return recordArgs(recs[i]), nil }))
	if isConstraint(err) {
		return fmt.Errorf("bulk insert %d records: %w: %w", len(recs), registry.ErrExists, err)
	}
	if err != nil {
		return fmt.Errorf("bulk insert %d records: %w", len(recs), err)
	}
	return nil
}

// Claim leases up to limit due mails for lease. SKIP LOCKED lets concurrent claimers (in
// other processes) take other mails instead of waiting.
// The mail carries the activation record of its registration (the receipt's reference), read
// here rather than stored twice.
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]mail.Mail, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `UPDATE mails SET leased_until = $1
		WHERE id IN (SELECT id FROM mails
			WHERE sent_at IS NULL AND NOT permanent AND next_attempt <= $2 AND leased_until <= $2
			ORDER BY next_attempt, created_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING id, to_addr, code, registration_id, expires_at, attempts, created_at, replaces,
			coalesce((SELECT activation_record FROM registrations WHERE registrations.id = mails.registration_id), '')`,
		ns(now.Add(lease)), ns(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim mails: %w", err)
	}
	defer rows.Close()
	var out []mail.Mail
	for rows.Next() {
		var m mail.Mail
		var exp, created int64
		if err := rows.Scan(&m.ID, &m.To, &m.Code, &m.RegistrationID, &exp, &m.Attempts, &created, &m.Replaces, &m.RecordID); err != nil {
			return nil, fmt.Errorf("claim mails: %w", err)
		}
		m.ExpiresAt, m.CreatedAt = tm(exp), tm(created)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
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

// Sent marks mail id delivered (keeping the first delivery time) and forgets its code.
func (s *Store) Sent(ctx context.Context, id string, at time.Time) error {
	res, err := s.pool.Exec(ctx, `UPDATE mails SET sent_at = coalesce(sent_at, $1), code = '', leased_until = 0
		WHERE id = $2`, ns(at), id)
	return affected(res, err, "mail sent "+id)
}

// Failed records a failed attempt of mail id; a permanent failure forgets the code, which
// will never be sent. A failure reported after the mail was sent (a late duplicate) changes
// nothing.
func (s *Store) Failed(ctx context.Context, id string, at, next time.Time, reason string, permanent bool) error {
	res, err := s.pool.Exec(ctx, `UPDATE mails SET attempts = attempts + 1, next_attempt = $1,
		leased_until = 0, last_error = $2, permanent = $3,
		code = CASE WHEN $3 THEN '' ELSE code END WHERE id = $4 AND sent_at IS NULL`,
		ns(next), reason, permanent, id)
	if err != nil {
		return fmt.Errorf("mail failed %s: %w", id, err)
	}
	if res.RowsAffected() == 0 {
		var one int
		if err := s.pool.QueryRow(ctx, `SELECT 1 FROM mails WHERE id = $1`, id).Scan(&one); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("mail failed %s: %w", id, registry.ErrNotFound)
			}
			return fmt.Errorf("mail failed %s: %w", id, err)
		}
	}
	return nil
}

// affected turns an UPDATE's result into ErrNotFound when it touched no row.
func affected(res pgconn.CommandTag, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if res.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	return nil
}
