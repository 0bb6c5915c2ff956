package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrateLock is the pg_advisory_lock key under which registry processes migrate ("IKDR").
const migrateLock = 0x494B4452

// OpenPostgres connects to the PostgreSQL database at url (a postgres:// URL or key=value
// DSN), checks that it answers and migrates its schema. The pool has 20 connections unless url
// sets pool_max_conns; the connect timeout is 10 s unless url sets connect_timeout.
func OpenPostgres(ctx context.Context, url string) (*Store, error) {
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
	if err := migratePostgres(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open registry database %s: %w", where, err)
	}
	return &Store{d: &pgDialect{pool: pool}}, nil
}

// pgDialect is the PostgreSQL side: $N placeholders, FOR UPDATE kept, COPY and pgx.Batch.
type pgDialect struct {
	pool *pgxpool.Pool
}

// pgSQL numbers a statement's ? placeholders ($1, $2, …); the shared SQL has no ? in its
// string literals.
var pgSQL = &rewriter{fn: func(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}}

func (d *pgDialect) begin(ctx context.Context, readOnly bool) (dbTx, error) {
	opts := pgx.TxOptions{IsoLevel: pgx.ReadCommitted}
	if readOnly {
		opts = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	}
	t, err := d.pool.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return pgTx{pgConn{t}, t}, nil
}

func (d *pgDialect) reader() conn                   { return pgConn{d.pool} }
func (d *pgDialect) ping(ctx context.Context) error { return d.pool.Ping(ctx) }
func (d *pgDialect) close() error                   { d.pool.Close(); return nil }
func (d *pgDialect) backoffStep() time.Duration     { return 2 * time.Millisecond }
func (d *pgDialect) isNoRows(err error) bool        { return errors.Is(err, pgx.ErrNoRows) }

// retryable: PostgreSQL aborted the transaction for a serialization failure or deadlock.
func (d *pgDialect) retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// isConstraint reports a unique_violation.
func (d *pgDialect) isConstraint(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// bulkInsert writes rows with COPY.
func (d *pgDialect) bulkInsert(ctx context.Context, table string, cols []string, rows [][]any) error {
	_, err := d.pool.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
	return err
}

func (d *pgDialect) batchReads() bool { return true }

// pgConn runs the shared SQL on a pgx pool or transaction.
type pgConn struct {
	q interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	}
}

func (c pgConn) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := c.q.Exec(ctx, pgSQL.rewrite(q), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected(), nil
}

func (c pgConn) query(ctx context.Context, q string, args ...any) (rows, error) {
	return c.q.Query(ctx, pgSQL.rewrite(q), args...)
}

func (c pgConn) queryRow(ctx context.Context, q string, args ...any) row {
	return c.q.QueryRow(ctx, pgSQL.rewrite(q), args...)
}

type pgTx struct {
	pgConn
	t pgx.Tx
}

// batch sends the statements as one pgx.Batch: one round trip for the lot.
func (t pgTx) batch(ctx context.Context, q string, args [][]any) ([]int64, error) {
	return t.pipeline(ctx, repeated(q, args))
}

// pipeline sends the statements as one pgx.Batch.
func (t pgTx) pipeline(ctx context.Context, stmts []stmt) ([]int64, error) {
	b := &pgx.Batch{}
	for _, s := range stmts {
		b.Queue(pgSQL.rewrite(s.q), s.args...)
	}
	res := t.t.SendBatch(ctx, b)
	n := make([]int64, len(stmts))
	for i := range n {
		tag, err := res.Exec()
		if err != nil {
			res.Close()
			return nil, err
		}
		n[i] = tag.RowsAffected()
	}
	return n, res.Close()
}

func (t pgTx) commit(ctx context.Context) error { return t.t.Commit(ctx) }
func (t pgTx) rollback(ctx context.Context)     { t.t.Rollback(ctx) }

// migratePostgres brings the schema up to date under a session advisory lock, so registry
// processes starting together on one database migrate it once.
func migratePostgres(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrateLock)); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer func() {
		// A fresh context: the unlock must happen even if ctx ended, or the pooled session
		// would keep the lock.
		if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(migrateLock)); err != nil {
			conn.Conn().Close(context.Background())
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var version int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	steps := schema(dbPostgres)
	if version > len(steps) {
		return fmt.Errorf("%w: schema version %d, this program knows up to %d", ErrNewerSchema, version, len(steps))
	}
	for v := version; v < len(steps); v++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, steps[v]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v+1)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
	}
	return nil
}
