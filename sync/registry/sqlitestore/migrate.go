package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
)

// applicationID marks the file as an IKD registry database ("IKDR") in the SQLite header, so
// a kiosk store or another application's file is refused before anything is written.
const applicationID = 0x494B4452

// migrations are forward-only: migrations[i] takes the schema from version i to i+1 and runs
// in one transaction with the user_version bump. Never edit a released migration; append.
//
// Times are INTEGER Unix nanoseconds, 0 for the zero time.Time. Byte columns are BLOBs and
// nullable, so nil and empty slices stay apart.
var migrations = []string{
	// 1: the initial schema.
	`CREATE TABLE enroll_codes (
		hash       BLOB PRIMARY KEY,
		area       TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	) STRICT;

	CREATE TABLE devices (
		kiosk_id    TEXT PRIMARY KEY,
		public_key  BLOB,
		area        TEXT NOT NULL,
		enrolled_at INTEGER NOT NULL,
		revoked_at  INTEGER NOT NULL DEFAULT 0,
		last_seen   INTEGER NOT NULL DEFAULT 0
	) STRICT;

	CREATE TABLE nonces (
		kiosk_id TEXT NOT NULL,
		nonce    TEXT NOT NULL,
		at       INTEGER NOT NULL,
		PRIMARY KEY (kiosk_id, nonce)
	) STRICT, WITHOUT ROWID;
	CREATE INDEX nonces_at ON nonces (at);

	CREATE TABLE registrations (
		id                TEXT PRIMARY KEY,
		nik               TEXT NOT NULL,
		email             TEXT NOT NULL,
		phone             TEXT NOT NULL,
		created_at        INTEGER NOT NULL,
		status            TEXT NOT NULL,
		revoked_at        INTEGER NOT NULL,
		activation_record TEXT NOT NULL,
		approved_at       INTEGER NOT NULL,
		code_hash         BLOB,
		code_expires      INTEGER NOT NULL,
		code_tries        INTEGER NOT NULL,
		confirmed_at      INTEGER NOT NULL
	) STRICT;
	CREATE INDEX registrations_nik ON registrations (nik, created_at);

	CREATE TABLE records (
		id              TEXT PRIMARY KEY,
		kiosk_id        TEXT NOT NULL,
		kind            TEXT NOT NULL,
		registration_id TEXT NOT NULL,
		nik             TEXT NOT NULL,
		at              INTEGER NOT NULL,
		received_at     INTEGER NOT NULL,
		status          INTEGER NOT NULL,
		code            TEXT NOT NULL,
		winner          TEXT NOT NULL,
		envelope        BLOB
	) STRICT;
	CREATE INDEX records_received_at ON records (received_at);
	CREATE INDEX records_kind_status ON records (kind, status);

	CREATE TABLE tombstones (
		id        INTEGER PRIMARY KEY,
		nik       TEXT NOT NULL,
		at        INTEGER NOT NULL,
		record_id TEXT NOT NULL
	) STRICT;
	CREATE INDEX tombstones_nik_at ON tombstones (nik, at);

	CREATE TABLE checkpoints (
		kiosk_id   TEXT PRIMARY KEY,
		record_id  TEXT NOT NULL,
		audit_seq  INTEGER NOT NULL,
		audit_hash BLOB,
		outbox_seq INTEGER NOT NULL,
		at         INTEGER NOT NULL
	) STRICT;

	CREATE TABLE mails (
		id              TEXT PRIMARY KEY,
		to_addr         TEXT NOT NULL,
		code            TEXT NOT NULL,
		registration_id TEXT NOT NULL,
		expires_at      INTEGER NOT NULL,
		attempts        INTEGER NOT NULL,
		created_at      INTEGER NOT NULL,
		next_attempt    INTEGER NOT NULL,
		leased_until    INTEGER NOT NULL DEFAULT 0,
		sent_at         INTEGER,
		permanent       INTEGER NOT NULL DEFAULT 0,
		last_error      TEXT NOT NULL DEFAULT ''
	) STRICT;
	-- Claim and the backlog only look at mails still waiting.
	CREATE INDEX mails_due ON mails (next_attempt) WHERE sent_at IS NULL AND permanent = 0;

	-- One counter hands out change numbers; the write lock makes them commit-ordered.
	CREATE TABLE change_counter (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		n  INTEGER NOT NULL
	) STRICT;
	INSERT INTO change_counter (id, n) VALUES (1, 0);

	CREATE TABLE residents (
		nik            TEXT PRIMARY KEY,
		kecamatan      TEXT NOT NULL,
		prev_kecamatan TEXT NOT NULL,
		removed        INTEGER NOT NULL,
		data           BLOB,
		seq            INTEGER NOT NULL UNIQUE
	) STRICT;
	CREATE INDEX residents_kec_seq ON residents (kecamatan, seq);
	CREATE INDEX residents_prev_seq ON residents (prev_kecamatan, seq);

	CREATE TABLE officers (
		id       TEXT PRIMARY KEY,
		area     TEXT NOT NULL,
		name     TEXT NOT NULL,
		role     TEXT NOT NULL,
		disabled INTEGER NOT NULL,
		seq      INTEGER NOT NULL UNIQUE
	) STRICT;

	CREATE TABLE registry_keys (
		key_id     TEXT PRIMARY KEY,
		public_key BLOB,
		not_before INTEGER NOT NULL,
		not_after  INTEGER NOT NULL,
		seq        INTEGER NOT NULL UNIQUE
	) STRICT;`,

	// 2: tombstones a supervisor lifted, kept as the audit trail.
	`ALTER TABLE tombstones ADD COLUMN lifted_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE tombstones ADD COLUMN lifted_by TEXT NOT NULL DEFAULT '';
	ALTER TABLE tombstones ADD COLUMN lift_reason TEXT NOT NULL DEFAULT '';`,

	// 3: the audit head each kiosk pushed with, to refuse a rolled-back database at once.
	`CREATE TABLE audit_heads (
		kiosk_id   TEXT PRIMARY KEY,
		audit_seq  INTEGER NOT NULL,
		audit_hash BLOB,
		outbox_seq INTEGER NOT NULL,
		at         INTEGER NOT NULL
	) STRICT;`,

	// 4: code re-issues: the mail says it replaces an earlier code, and the per-registration
	// limit counts a registration's re-issues without scanning every record.
	`ALTER TABLE mails ADD COLUMN replaces INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX records_reissue ON records (registration_id, received_at) WHERE kind = 'code_reissue';`,

	// 5: every area a resident left, so a resident who moves twice (A→B→C) is still a change
	// for A; and the resident's revocations (CBOR sync.Revocations), kept apart from the
	// population data so that re-importing a resident does not erase them.
	`ALTER TABLE residents ADD COLUMN revocations BLOB;
	CREATE TABLE resident_areas_left (
		area TEXT NOT NULL,
		nik  TEXT NOT NULL,
		PRIMARY KEY (area, nik)
	) STRICT, WITHOUT ROWID;
	INSERT INTO resident_areas_left (area, nik)
		SELECT prev_kecamatan, nik FROM residents WHERE prev_kecamatan <> '';`,
}

// migrate identifies the file and brings its schema up to date. An empty file becomes a
// registry database; a file of another application, or of a newer registry, is refused.
func migrate(ctx context.Context, db *sql.DB) error {
	var appID, version int64
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return fmt.Errorf("read application_id: %w", err)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read user_version: %w", err)
	}
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
	case version > int64(len(migrations)):
		return fmt.Errorf("%w: schema version %d, this program knows up to %d", ErrNewerSchema, version, len(migrations))
	}
	for v := version; v < int64(len(migrations)); v++ {
		if err := step(ctx, db, v); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
	}
	return nil
}

// step runs migration v (taking the schema to v+1) in one transaction.
func step(ctx context.Context, db *sql.DB, v int64) error {
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
	if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
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
