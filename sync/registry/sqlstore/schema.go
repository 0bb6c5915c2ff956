package sqlstore

import "strings"

// migrations are forward-only: migrations[i] takes the schema from version i to i+1 and runs
// in one transaction with the version bump. Never edit a released migration; append.
//
// One text serves both databases: the braced words are the types and clauses that differ
// (see schemaWords), so each database gets exactly the schema it always had. Times are
// 64-bit Unix nanoseconds, 0 for the zero time.Time; byte columns are nullable so nil and
// empty stay apart.
var migrations = []string{
	// 1: the initial schema.
	`CREATE TABLE enroll_codes (
		hash       {bytes} PRIMARY KEY,
		area       TEXT NOT NULL,
		created_at {int64} NOT NULL,
		expires_at {int64} NOT NULL
	){strict};

	CREATE TABLE devices (
		kiosk_id    TEXT PRIMARY KEY,
		public_key  {bytes},
		area        TEXT NOT NULL,
		enrolled_at {int64} NOT NULL,
		revoked_at  {int64} NOT NULL DEFAULT 0,
		last_seen   {int64} NOT NULL DEFAULT 0
	){strict};

	CREATE TABLE nonces (
		kiosk_id TEXT NOT NULL,
		nonce    TEXT NOT NULL,
		at       {int64} NOT NULL,
		PRIMARY KEY (kiosk_id, nonce)
	){strict_rowless};
	CREATE INDEX nonces_at ON nonces (at);

	CREATE TABLE registrations (
		id                TEXT PRIMARY KEY,
		nik               TEXT NOT NULL,
		email             TEXT NOT NULL,
		phone             TEXT NOT NULL,
		created_at        {int64} NOT NULL,
		status            TEXT NOT NULL,
		revoked_at        {int64} NOT NULL,
		activation_record TEXT NOT NULL,
		approved_at       {int64} NOT NULL,
		code_hash         {bytes},
		code_expires      {int64} NOT NULL,
		code_tries        INTEGER NOT NULL,
		confirmed_at      {int64} NOT NULL
	){strict};
	CREATE INDEX registrations_nik ON registrations (nik, created_at);

	CREATE TABLE records (
		id              TEXT PRIMARY KEY,
		kiosk_id        TEXT NOT NULL,
		kind            TEXT NOT NULL,
		registration_id TEXT NOT NULL,
		nik             TEXT NOT NULL,
		at              {int64} NOT NULL,
		received_at     {int64} NOT NULL,
		status          INTEGER NOT NULL,
		code            TEXT NOT NULL,
		winner          TEXT NOT NULL,
		envelope        {bytes}
	){strict};
	CREATE INDEX records_received_at ON records (received_at);
	CREATE INDEX records_kind_status ON records (kind, status);

	CREATE TABLE tombstones (
		id        {serial_key},
		nik       TEXT NOT NULL,
		at        {int64} NOT NULL,
		record_id TEXT NOT NULL
	){strict};
	CREATE INDEX tombstones_nik_at ON tombstones (nik, at);

	CREATE TABLE checkpoints (
		kiosk_id   TEXT PRIMARY KEY,
		record_id  TEXT NOT NULL,
		audit_seq  {int64} NOT NULL,
		audit_hash {bytes},
		outbox_seq {int64} NOT NULL,
		at         {int64} NOT NULL
	){strict};

	CREATE TABLE mails (
		id              TEXT PRIMARY KEY,
		to_addr         TEXT NOT NULL,
		code            TEXT NOT NULL,
		registration_id TEXT NOT NULL,
		expires_at      {int64} NOT NULL,
		attempts        INTEGER NOT NULL,
		created_at      {int64} NOT NULL,
		next_attempt    {int64} NOT NULL,
		leased_until    {int64} NOT NULL DEFAULT 0,
		sent_at         {int64},
		permanent       {bool} NOT NULL DEFAULT {false},
		last_error      TEXT NOT NULL DEFAULT ''
	){strict};
	-- Claim and the backlog only look at mails still waiting.
	CREATE INDEX mails_due ON mails (next_attempt) WHERE sent_at IS NULL AND NOT permanent;

	-- One row hands out change numbers: its row lock (PostgreSQL) or the write lock (SQLite),
	-- held to commit, serialises change writers so numbers are in commit order (a sequence is
	-- not: a reader could pass a number that commits late).
	CREATE TABLE change_counter (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		n  {int64} NOT NULL
	){strict};
	INSERT INTO change_counter (id, n) VALUES (1, 0);

	CREATE TABLE residents (
		nik            TEXT PRIMARY KEY,
		kecamatan      TEXT NOT NULL,
		prev_kecamatan TEXT NOT NULL,
		removed        {bool} NOT NULL,
		data           {bytes},
		seq            {int64} NOT NULL UNIQUE
	){strict};
	CREATE INDEX residents_kec_seq ON residents (kecamatan, seq);
	CREATE INDEX residents_prev_seq ON residents (prev_kecamatan, seq);

	CREATE TABLE officers (
		id       TEXT PRIMARY KEY,
		area     TEXT NOT NULL,
		name     TEXT NOT NULL,
		role     TEXT NOT NULL,
		disabled {bool} NOT NULL,
		seq      {int64} NOT NULL UNIQUE
	){strict};

	CREATE TABLE registry_keys (
		key_id     TEXT PRIMARY KEY,
		public_key {bytes},
		not_before {int64} NOT NULL,
		not_after  {int64} NOT NULL,
		seq        {int64} NOT NULL UNIQUE
	){strict};`,

	// 2: tombstones a supervisor lifted, kept as the audit trail.
	`ALTER TABLE tombstones ADD COLUMN lifted_at {int64} NOT NULL DEFAULT 0;
	ALTER TABLE tombstones ADD COLUMN lifted_by TEXT NOT NULL DEFAULT '';
	ALTER TABLE tombstones ADD COLUMN lift_reason TEXT NOT NULL DEFAULT '';`,

	// 3: the audit head each kiosk pushed with, to refuse a rolled-back database at once.
	`CREATE TABLE audit_heads (
		kiosk_id   TEXT PRIMARY KEY,
		audit_seq  {int64} NOT NULL,
		audit_hash {bytes},
		outbox_seq {int64} NOT NULL,
		at         {int64} NOT NULL
	){strict};`,

	// 4: code re-issues: the mail says it replaces an earlier code, and the per-registration
	// limit counts a registration's re-issues without scanning every record.
	`ALTER TABLE mails ADD COLUMN replaces {bool} NOT NULL DEFAULT {false};
	CREATE INDEX records_reissue ON records (registration_id, received_at) WHERE kind = 'code_reissue';`,

	// 5: every area a resident left, so a resident who moves twice (A→B→C) is still a change
	// for A; and the resident's revocations (CBOR sync.Revocations), kept apart from the
	// population data so that re-importing a resident does not erase them.
	`ALTER TABLE residents ADD COLUMN revocations {bytes};
	CREATE TABLE resident_areas_left (
		area TEXT NOT NULL,
		nik  TEXT NOT NULL,
		PRIMARY KEY (area, nik)
	){strict_rowless};
	INSERT INTO resident_areas_left (area, nik)
		SELECT prev_kecamatan, nik FROM residents WHERE prev_kecamatan <> '';`,

	// 6: the region key (registry.Region: the NIK's first six digits, its kecamatan code) on
	// every hot table, the distribution column if the registry is ever sharded by region
	// (docs/SCALING.md). Written from the NIK a row is given; lookups by NIK filter on it.
	// Rows whose NIK column is a blind index (a sealed store) cannot be back-filled here and
	// keep '' until rewritten, so lookups also match ''. The NIK indexes stay on nik: a
	// shard's index serves lookups within the shard, where a leading region buys nothing and
	// costs a descent per region of a batch. Unique keys stay without it: docs/SCALING.md.
	`ALTER TABLE registrations ADD COLUMN region TEXT NOT NULL DEFAULT '';
	ALTER TABLE records ADD COLUMN region TEXT NOT NULL DEFAULT '';
	ALTER TABLE tombstones ADD COLUMN region TEXT NOT NULL DEFAULT '';
	ALTER TABLE residents ADD COLUMN region TEXT NOT NULL DEFAULT '';
	ALTER TABLE mails ADD COLUMN region TEXT NOT NULL DEFAULT '';
	UPDATE registrations SET region = substr(nik, 1, 6) WHERE length(nik) = 16;
	UPDATE records SET region = substr(nik, 1, 6) WHERE length(nik) = 16;
	UPDATE tombstones SET region = substr(nik, 1, 6) WHERE length(nik) = 16;
	UPDATE residents SET region = substr(nik, 1, 6) WHERE length(nik) = 16;
	UPDATE mails SET region = coalesce((SELECT r.region FROM registrations r WHERE r.id = mails.registration_id), '');`,
}

// schemaWords are the schema's differing words, per database.
var schemaWords = map[string]*strings.Replacer{
	dbPostgres: strings.NewReplacer("{bytes}", "BYTEA", "{int64}", "BIGINT", "{bool}", "BOOLEAN",
		"{false}", "false", "{strict}", "", "{strict_rowless}", "",
		"{serial_key}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
	// STRICT tables type-check their columns; SQLite has no BOOLEAN, and its partial index
	// must spell the condition the way Claim and MailBacklog do (see sqliteWords).
	dbSQLite: strings.NewReplacer("{bytes}", "BLOB", "{int64}", "INTEGER", "{bool}", "INTEGER",
		"{false}", "0", "{strict}", " STRICT", "{strict_rowless}", " STRICT, WITHOUT ROWID",
		"{serial_key}", "INTEGER PRIMARY KEY", "NOT permanent", "permanent = 0"),
}

// schema returns the migrations as database db spells them.
func schema(db string) []string {
	out := make([]string, len(migrations))
	for i, m := range migrations {
		out[i] = schemaWords[db].Replace(m)
	}
	return out
}
