package store

import (
	"context"
	"database/sql"
	"fmt"
)

// applicationID marks the file as an IKD kiosk store ("IKD1") in the SQLite header, so a
// database of another application is recognised before anything is read or written.
const applicationID = 0x494B4431

// migration takes the schema from one version to the next: SQL, then, for steps that need
// the data key, sign (run after unlock, in the same transaction as the SQL).
type migration struct {
	sql  string
	sign func(context.Context, *sql.Tx, *keyring) error
}

// migrations are forward-only; migrations[i] takes the schema from version i to i+1 and runs
// in one transaction together with the user_version bump. Never edit a released migration:
// append a new one.
var migrations = []migration{
	// 1: the initial schema.
	{sql: `PRAGMA application_id = 1229669425;

	CREATE TABLE meta (
		key   TEXT PRIMARY KEY,
		value BLOB NOT NULL
	) STRICT;

	-- Only kecamatan is plain: area filtering and sync deltas select by it, and on its own it
	-- names thousands of people. Everything personal is in sealed (AES-256-GCM, the blind
	-- index as additional data).
	CREATE TABLE residents (
		id         INTEGER PRIMARY KEY,
		nik_bi     BLOB NOT NULL UNIQUE,
		kecamatan  TEXT NOT NULL,
		sealed     BLOB NOT NULL,
		updated_at INTEGER NOT NULL
	) STRICT;

	CREATE TABLE officers (
		id              TEXT PRIMARY KEY,
		name_sealed     BLOB NOT NULL,
		role            TEXT NOT NULL CHECK (role IN ('officer', 'supervisor')),
		disabled        INTEGER NOT NULL DEFAULT 0,
		pin_hash        BLOB NOT NULL,
		pin_salt        BLOB NOT NULL,
		pin_params      TEXT NOT NULL,
		failed_attempts INTEGER NOT NULL DEFAULT 0,
		locked_until    INTEGER NOT NULL DEFAULT 0,
		created_at      INTEGER NOT NULL
	) STRICT;

	CREATE TABLE outbox (
		seq        INTEGER PRIMARY KEY,
		id         TEXT NOT NULL UNIQUE,
		kind       TEXT NOT NULL CHECK (kind IN ('activation', 'deactivation', 'audit_checkpoint')),
		nik_bi     BLOB,
		reg_bi     BLOB,
		envelope   BLOB NOT NULL,
		state      TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'acknowledged', 'rejected')),
		answer     TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	) STRICT;
	-- One registration is activated once, whatever became of the first record.
	CREATE UNIQUE INDEX outbox_one_activation ON outbox(reg_bi) WHERE kind = 'activation';
	-- One open deactivation per NIK; a later loss after the registry acknowledged is new.
	CREATE UNIQUE INDEX outbox_one_open_deactivation ON outbox(nik_bi)
		WHERE kind = 'deactivation' AND state IN ('pending', 'sent');
	CREATE INDEX outbox_by_state ON outbox(state, seq);

	CREATE TABLE audit (
		seq           INTEGER PRIMARY KEY,
		at            INTEGER NOT NULL,
		officer_id    TEXT NOT NULL,
		action        TEXT NOT NULL,
		subject       TEXT NOT NULL,
		detail_sealed BLOB NOT NULL,
		prev_hash     BLOB NOT NULL,
		hash          BLOB NOT NULL,
		mac           BLOB NOT NULL
	) STRICT;
	-- The triggers stop the application from editing history by mistake; VerifyAudit catches
	-- anyone who drops them.
	CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
		BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
	CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
		BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;

	CREATE TABLE registry_keys (
		kid        TEXT PRIMARY KEY,
		public_key BLOB NOT NULL CHECK (length(public_key) = 32),
		not_before INTEGER NOT NULL,
		not_after  INTEGER NOT NULL,
		added_at   INTEGER NOT NULL
	) STRICT;`},
	// 2: row MACs over everything that grants trust (integrity.go), officer lockout
	// escalation, resident versions.
	{sql: `ALTER TABLE registry_keys ADD COLUMN mac BLOB;
	ALTER TABLE officers ADD COLUMN lockouts INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE officers ADD COLUMN mac BLOB;
	ALTER TABLE outbox ADD COLUMN mac BLOB;
	ALTER TABLE residents ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE residents ADD COLUMN mac BLOB;`, sign: signAll},
	// 3: counter statistics, one row per visit. They hold no personal data (no NIK, no
	// name), so they are plain: the supervisor's CSV export reads them without the data key.
	{sql: `CREATE TABLE visit_stats (
		seq         INTEGER PRIMARY KEY,
		at          INTEGER NOT NULL,
		purpose     TEXT NOT NULL,
		outcome     TEXT NOT NULL,
		scan_ms     INTEGER NOT NULL,
		resident_ms INTEGER NOT NULL,
		face_ms     INTEGER NOT NULL,
		decision_ms INTEGER NOT NULL,
		total_ms    INTEGER NOT NULL
	) STRICT;
	CREATE INDEX visit_stats_by_time ON visit_stats(at);`},
	// 4: code re-issue records. SQLite cannot change a CHECK, so the outbox is rebuilt with
	// its rows as they are (their MACs cover the values, not the table); one open re-issue
	// per registration, as for deactivations per NIK.
	{sql: `CREATE TABLE outbox_v4 (
		seq        INTEGER PRIMARY KEY,
		id         TEXT NOT NULL UNIQUE,
		kind       TEXT NOT NULL CHECK (kind IN ('activation', 'deactivation', 'audit_checkpoint', 'code_reissue')),
		nik_bi     BLOB,
		reg_bi     BLOB,
		envelope   BLOB NOT NULL,
		state      TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'acknowledged', 'rejected')),
		answer     TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		mac        BLOB
	) STRICT;
	INSERT INTO outbox_v4 (seq, id, kind, nik_bi, reg_bi, envelope, state, answer, created_at, updated_at, mac)
		SELECT seq, id, kind, nik_bi, reg_bi, envelope, state, answer, created_at, updated_at, mac FROM outbox;
	DROP TABLE outbox;
	ALTER TABLE outbox_v4 RENAME TO outbox;
	CREATE UNIQUE INDEX outbox_one_activation ON outbox(reg_bi) WHERE kind = 'activation';
	CREATE UNIQUE INDEX outbox_one_open_deactivation ON outbox(nik_bi)
		WHERE kind = 'deactivation' AND state IN ('pending', 'sent');
	CREATE UNIQUE INDEX outbox_one_open_reissue ON outbox(reg_bi)
		WHERE kind = 'code_reissue' AND state IN ('pending', 'sent');
	CREATE INDEX outbox_by_state ON outbox(state, seq);`},
	// 5: retention purge. Audit entries from now on hash their detail's digest rather than
	// the detail (hash_version 2), so the purge can erase an old detail and the chain still
	// verifies; the trigger lets exactly that through and nothing else.
	{sql: `ALTER TABLE audit ADD COLUMN hash_version INTEGER NOT NULL DEFAULT 1;
	ALTER TABLE audit ADD COLUMN detail_digest BLOB;
	DROP TRIGGER audit_no_update;
	CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
		WHEN NOT (OLD.hash_version = 2 AND NEW.detail_sealed = x'' AND NEW.seq = OLD.seq AND NEW.at = OLD.at
			AND NEW.officer_id = OLD.officer_id AND NEW.action = OLD.action AND NEW.subject = OLD.subject
			AND NEW.prev_hash = OLD.prev_hash AND NEW.hash = OLD.hash AND NEW.mac = OLD.mac
			AND NEW.hash_version = OLD.hash_version AND NEW.detail_digest IS OLD.detail_digest)
		BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;`},
}

// rowMACSchema is the first schema whose trust rows carry MACs (migration 2).
const rowMACSchema = 2

// rewrapDataKey wraps the data key again for a store whose rows are now authenticated, so
// that the schema can no longer be set back (see wrapAADRowMACs). It costs one KDF run, once
// in a store's life.
func rewrapDataKey(ctx context.Context, db *sql.DB, secret, salt []byte, p KDFParams, dataKey []byte) error {
	wrapped, err := wrapDataKey(secret, salt, p, dataKey)
	if err != nil {
		return fmt.Errorf("rewrap data key: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback()
	if err := setMeta(ctx, tx, metaWrappedKey, wrapped); err != nil {
		return classify(err)
	}
	return classify(tx.Commit())
}

// header reads the identity fields of the SQLite header.
func header(ctx context.Context, db *sql.DB) (appID, version int, err error) {
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return 0, 0, classify(err)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, 0, classify(err)
	}
	return appID, version, nil
}

// checkSchema refuses a store that is not at the newest schema, for a read-only open.
func checkSchema(version int) error {
	switch {
	case version > len(migrations):
		return ErrNewerSchema.With(fmt.Errorf("file schema %d, this build knows up to %d", version, len(migrations)))
	case version < len(migrations):
		return ErrNeedsMigration.With(fmt.Errorf("file schema %d, this build migrates to %d", version, len(migrations)))
	}
	return nil
}

// migrate brings a store at version from up to the newest schema, one transaction per step.
// Without keys (before unlock) it stops at the first step that needs them; the caller runs
// it again with the keys.
func migrate(ctx context.Context, db *sql.DB, from int, keys *keyring) error {
	if from > len(migrations) {
		return ErrNewerSchema.With(fmt.Errorf("file schema %d, this build knows up to %d", from, len(migrations)))
	}
	for v := from; v < len(migrations); v++ {
		if migrations[v].sign != nil && keys == nil {
			return nil
		}
		if err := migrateStep(ctx, db, v, keys); err != nil {
			return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
		}
	}
	return nil
}

func migrateStep(ctx context.Context, db *sql.DB, v int, keys *keyring) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback()
	// Re-check inside the write transaction: another process may have migrated meanwhile.
	var cur int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil {
		return classify(err)
	}
	if cur != v {
		return nil
	}
	if _, err := tx.ExecContext(ctx, migrations[v].sql); err != nil {
		return classify(err)
	}
	if m := migrations[v]; m.sign != nil {
		if err := m.sign(ctx, tx, keys); err != nil {
			return classify(err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return classify(err)
	}
	return classify(tx.Commit())
}
