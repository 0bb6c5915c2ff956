package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNewerSchema is returned by Open when the database was migrated by a newer registry.
var ErrNewerSchema = errors.New("pgstore: database schema is newer than this program")

// migrateLock is the pg_advisory_lock key under which registry processes migrate ("IKDR").
const migrateLock = 0x494B4452

// migrations are forward-only: migrations[i] takes the schema from version i to i+1 and runs
// in one transaction with its schema_migrations row. Never edit a released migration; append.
//
// Times are BIGINT Unix nanoseconds, 0 for the zero time.Time (the same as sqlitestore, so
// both round-trip identically). Byte columns are nullable BYTEA so nil and empty stay apart.
var migrations = []string{
	// 1: the initial schema.
	`CREATE TABLE enroll_codes (
		hash       BYTEA PRIMARY KEY,
		area       TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		expires_at BIGINT NOT NULL
	);

	CREATE TABLE devices (
		kiosk_id    TEXT PRIMARY KEY,
		public_key  BYTEA,
		area        TEXT NOT NULL,
		enrolled_at BIGINT NOT NULL,
		revoked_at  BIGINT NOT NULL DEFAULT 0,
		last_seen   BIGINT NOT NULL DEFAULT 0
	);

	CREATE TABLE nonces (
		kiosk_id TEXT NOT NULL,
		nonce    TEXT NOT NULL,
		at       BIGINT NOT NULL,
		PRIMARY KEY (kiosk_id, nonce)
	);
	CREATE INDEX nonces_at ON nonces (at);

	CREATE TABLE registrations (
		id                TEXT PRIMARY KEY,
		nik               TEXT NOT NULL,
		email             TEXT NOT NULL,
		phone             TEXT NOT NULL,
		created_at        BIGINT NOT NULL,
		status            TEXT NOT NULL,
		revoked_at        BIGINT NOT NULL,
		activation_record TEXT NOT NULL,
		approved_at       BIGINT NOT NULL,
		code_hash         BYTEA,
		code_expires      BIGINT NOT NULL,
		code_tries        INTEGER NOT NULL,
		confirmed_at      BIGINT NOT NULL
	);
	CREATE INDEX registrations_nik ON registrations (nik, created_at);

	CREATE TABLE records (
		id              TEXT PRIMARY KEY,
		kiosk_id        TEXT NOT NULL,
		kind            TEXT NOT NULL,
		registration_id TEXT NOT NULL,
		nik             TEXT NOT NULL,
		at              BIGINT NOT NULL,
		received_at     BIGINT NOT NULL,
		status          INTEGER NOT NULL,
		code            TEXT NOT NULL,
		winner          TEXT NOT NULL,
		envelope        BYTEA
	);
	CREATE INDEX records_received_at ON records (received_at);
	CREATE INDEX records_kind_status ON records (kind, status);

	CREATE TABLE tombstones (
		id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		nik       TEXT NOT NULL,
		at        BIGINT NOT NULL,
		record_id TEXT NOT NULL
	);
	CREATE INDEX tombstones_nik_at ON tombstones (nik, at);

	CREATE TABLE checkpoints (
		kiosk_id   TEXT PRIMARY KEY,
		record_id  TEXT NOT NULL,
		audit_seq  BIGINT NOT NULL,
		audit_hash BYTEA,
		outbox_seq BIGINT NOT NULL,
		at         BIGINT NOT NULL
	);

	CREATE TABLE mails (
		id              TEXT PRIMARY KEY,
		to_addr         TEXT NOT NULL,
		code            TEXT NOT NULL,
		registration_id TEXT NOT NULL,
		expires_at      BIGINT NOT NULL,
		attempts        INTEGER NOT NULL,
		created_at      BIGINT NOT NULL,
		next_attempt    BIGINT NOT NULL,
		leased_until    BIGINT NOT NULL DEFAULT 0,
		sent_at         BIGINT,
		permanent       BOOLEAN NOT NULL DEFAULT false,
		last_error      TEXT NOT NULL DEFAULT ''
	);
	-- Claim and the backlog only look at mails still waiting.
	CREATE INDEX mails_due ON mails (next_attempt) WHERE sent_at IS NULL AND NOT permanent;

	-- One row hands out change numbers: its row lock, held to commit, serialises change
	-- writers so numbers are in commit order (a sequence is not: a reader could pass a
	-- number that commits late).
	CREATE TABLE change_counter (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		n  BIGINT NOT NULL
	);
	INSERT INTO change_counter (id, n) VALUES (1, 0);

	CREATE TABLE residents (
		nik            TEXT PRIMARY KEY,
		kecamatan      TEXT NOT NULL,
		prev_kecamatan TEXT NOT NULL,
		removed        BOOLEAN NOT NULL,
		data           BYTEA,
		seq            BIGINT NOT NULL UNIQUE
	);
	CREATE INDEX residents_kec_seq ON residents (kecamatan, seq);
	CREATE INDEX residents_prev_seq ON residents (prev_kecamatan, seq);

	CREATE TABLE officers (
		id       TEXT PRIMARY KEY,
		area     TEXT NOT NULL,
		name     TEXT NOT NULL,
		role     TEXT NOT NULL,
		disabled BOOLEAN NOT NULL,
		seq      BIGINT NOT NULL UNIQUE
	);

	CREATE TABLE registry_keys (
		key_id     TEXT PRIMARY KEY,
		public_key BYTEA,
		not_before BIGINT NOT NULL,
		not_after  BIGINT NOT NULL,
		seq        BIGINT NOT NULL UNIQUE
	);`,

	// 2: tombstones a supervisor lifted, kept as the audit trail.
	`ALTER TABLE tombstones ADD COLUMN lifted_at BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE tombstones ADD COLUMN lifted_by TEXT NOT NULL DEFAULT '';
	ALTER TABLE tombstones ADD COLUMN lift_reason TEXT NOT NULL DEFAULT '';`,

	// 3: the audit head each kiosk pushed with, to refuse a rolled-back database at once.
	`CREATE TABLE audit_heads (
		kiosk_id   TEXT PRIMARY KEY,
		audit_seq  BIGINT NOT NULL,
		audit_hash BYTEA,
		outbox_seq BIGINT NOT NULL,
		at         BIGINT NOT NULL
	);`,

	// 4: code re-issues: the mail says it replaces an earlier code, and the per-registration
	// limit counts a registration's re-issues without scanning every record.
	`ALTER TABLE mails ADD COLUMN replaces BOOLEAN NOT NULL DEFAULT false;
	CREATE INDEX records_reissue ON records (registration_id, received_at) WHERE kind = 'code_reissue';`,

	// 5: every area a resident left, so a resident who moves twice (A→B→C) is still a change
	// for A; and the resident's revocations (CBOR sync.Revocations), kept apart from the
	// population data so that re-importing a resident does not erase them.
	`ALTER TABLE residents ADD COLUMN revocations BYTEA;
	CREATE TABLE resident_areas_left (
		area TEXT NOT NULL,
		nik  TEXT NOT NULL,
		PRIMARY KEY (area, nik)
	);
	INSERT INTO resident_areas_left (area, nik)
		SELECT prev_kecamatan, nik FROM residents WHERE prev_kecamatan <> '';`,
}

// migrate brings the schema up to date under a session advisory lock, so registry processes
// starting together on one database migrate it once.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
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
	if version > len(migrations) {
		return fmt.Errorf("%w: schema version %d, this program knows up to %d", ErrNewerSchema, version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
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
