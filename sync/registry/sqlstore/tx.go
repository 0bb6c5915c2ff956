package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/internal/storeutil"
	"github.com/ikd-field/ikd/sync/registry/mail"
)

// tx is a registry.Tx on one transaction of the dialect; the locking reads are written
// SELECT ... FOR UPDATE (SQLite, whose write lock covers the whole transaction, drops it).
type tx struct {
	c dbTx
	d dialect
	// locked are the registrations LockRegistrations read and locked, kept up to date by
	// UpdateRegistration: no other transaction can change them before this one ends.
	locked map[string]registry.Registration
}

// notFound maps the driver's "no rows" to registry.ErrNotFound, wrapped with what was looked up.
func (t *tx) notFound(err error, what string) error {
	if t.d.isNoRows(err) {
		return fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (t *tx) CreateEnrollCode(ctx context.Context, c registry.EnrollCode) error {
	n, err := t.c.exec(ctx, `INSERT INTO enroll_codes (hash, area, created_at, expires_at)
		VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, c.Hash, c.Area, ns(c.CreatedAt), ns(c.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create enroll code: %w", err)
	}
	// ON CONFLICT, not a failed statement: on PostgreSQL that would abort the whole
	// transaction, and the caller may go on after ErrExists.
	if n == 0 {
		return fmt.Errorf("create enroll code: %w", registry.ErrExists)
	}
	return nil
}

func (t *tx) TakeEnrollCode(ctx context.Context, hash []byte, now time.Time) (registry.EnrollCode, error) {
	var c registry.EnrollCode
	var created, expires int64
	err := t.c.queryRow(ctx, `DELETE FROM enroll_codes WHERE hash = ? AND expires_at > ?
		RETURNING hash, area, created_at, expires_at`, hash, ns(now)).Scan(&c.Hash, &c.Area, &created, &expires)
	if err != nil {
		return registry.EnrollCode{}, t.notFound(err, "take enroll code")
	}
	c.CreatedAt, c.ExpiresAt = tm(created), tm(expires)
	return c, nil
}

func (t *tx) InsertDevice(ctx context.Context, d registry.Device) error {
	n, err := t.c.exec(ctx, `INSERT INTO devices (kiosk_id, public_key, area, enrolled_at, revoked_at, last_seen)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, d.KioskID, []byte(d.PublicKey), d.Area, ns(d.EnrolledAt), ns(d.RevokedAt), ns(d.LastSeen))
	if err != nil {
		return fmt.Errorf("insert device %s: %w", d.KioskID, err)
	}
	// ON CONFLICT, not a failed statement: on PostgreSQL that would abort the whole
	// transaction, and the caller may go on after ErrExists.
	if n == 0 {
		return fmt.Errorf("insert device %s: %w", d.KioskID, registry.ErrExists)
	}
	return nil
}

const deviceCols = `kiosk_id, public_key, area, enrolled_at, revoked_at, last_seen`

func scanDevice(sc row) (registry.Device, error) {
	var d registry.Device
	var pk []byte
	var enrolled, revoked, seen int64
	if err := sc.Scan(&d.KioskID, &pk, &d.Area, &enrolled, &revoked, &seen); err != nil {
		return registry.Device{}, err
	}
	d.PublicKey = pk
	d.EnrolledAt, d.RevokedAt, d.LastSeen = tm(enrolled), tm(revoked), tm(seen)
	return d, nil
}

func (t *tx) Device(ctx context.Context, kioskID string) (registry.Device, error) {
	d, err := scanDevice(t.c.queryRow(ctx, `SELECT `+deviceCols+` FROM devices WHERE kiosk_id = ?`, kioskID))
	if err != nil {
		return registry.Device{}, t.notFound(err, "device "+kioskID)
	}
	return d, nil
}

func (t *tx) Devices(ctx context.Context) ([]registry.Device, error) {
	rows, err := t.c.query(ctx, `SELECT `+deviceCols+` FROM devices ORDER BY kiosk_id`)
	if err != nil {
		return nil, fmt.Errorf("devices: %w", err)
	}
	defer rows.Close()
	var out []registry.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("devices: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("devices: %w", err)
	}
	return out, nil
}

func (t *tx) RevokeDevice(ctx context.Context, kioskID string, at time.Time) error {
	n, err := t.c.exec(ctx, `UPDATE devices SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END
		WHERE kiosk_id = ?`, ns(at), kioskID)
	return affected(n, err, "revoke device "+kioskID)
}

func (t *tx) TouchDevice(ctx context.Context, kioskID string, at time.Time) error {
	_, err := t.c.exec(ctx, `UPDATE devices SET last_seen = ? WHERE kiosk_id = ? AND last_seen < ?`,
		ns(at), kioskID, ns(at))
	if err != nil {
		return fmt.Errorf("touch device %s: %w", kioskID, err)
	}
	return nil
}

func (t *tx) UseNonce(ctx context.Context, kioskID, nonce string, at time.Time) (bool, error) {
	n, err := t.c.exec(ctx, `INSERT INTO nonces (kiosk_id, nonce, at) VALUES (?, ?, ?)
		ON CONFLICT DO NOTHING`, kioskID, nonce, ns(at))
	if err != nil {
		return false, fmt.Errorf("use nonce of %s: %w", kioskID, err)
	}
	return n == 1, nil
}

func (t *tx) PurgeNonces(ctx context.Context, before time.Time) (int64, error) {
	n, err := t.c.exec(ctx, `DELETE FROM nonces WHERE at < ?`, ns(before))
	if err != nil {
		return 0, fmt.Errorf("purge nonces: %w", err)
	}
	return n, nil
}

const regCols = `id, nik, email, phone, created_at, status, revoked_at, activation_record, approved_at,
	code_hash, code_expires, code_tries, confirmed_at`

// regArgs are r's regCols and its region.
func regArgs(r registry.Registration) []any {
	region, nik := registry.SplitNIK(r.NIK)
	return []any{r.ID, nik, r.Email, r.Phone, ns(r.CreatedAt), string(r.Status), ns(r.RevokedAt),
		r.ActivationRecord, ns(r.ApprovedAt), r.CodeHash, ns(r.CodeExpires), r.CodeTries, ns(r.ConfirmedAt), region}
}

// regionPred filters a hot table on a lookup's region. Rows of a sealed store written before
// migration 6 have the empty region (their NIK was blinded, the migration could not derive
// it), so the empty region matches too; the NIK or id condition beside it decides.
const regionPred = `region IN (?, '')`

func scanReg(sc row) (registry.Registration, error) {
	var r registry.Registration
	var status string
	var created, revoked, approved, expires, confirmed int64
	if err := sc.Scan(&r.ID, &r.NIK, &r.Email, &r.Phone, &created, &status, &revoked, &r.ActivationRecord,
		&approved, &r.CodeHash, &expires, &r.CodeTries, &confirmed); err != nil {
		return registry.Registration{}, err
	}
	r.Status = registry.RegistrationStatus(status)
	r.CreatedAt, r.RevokedAt, r.ApprovedAt, r.CodeExpires, r.ConfirmedAt = tm(created), tm(revoked), tm(approved), tm(expires), tm(confirmed)
	return r, nil
}

func (t *tx) InsertRegistration(ctx context.Context, r registry.Registration) error {
	n, err := t.c.exec(ctx, `INSERT INTO registrations (`+regCols+`, region)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, regArgs(r)...)
	if err != nil {
		return fmt.Errorf("insert registration %s: %w", r.ID, err)
	}
	// ON CONFLICT, not a failed statement: on PostgreSQL that would abort the whole
	// transaction, and the caller may go on after ErrExists.
	if n == 0 {
		return fmt.Errorf("insert registration %s: %w", r.ID, registry.ErrExists)
	}
	return nil
}

func (t *tx) Registration(ctx context.Context, id string) (registry.Registration, error) {
	if r, ok := t.locked[id]; ok {
		return r, nil
	}
	r, err := scanReg(t.c.queryRow(ctx, `SELECT `+regCols+` FROM registrations WHERE id = ? FOR UPDATE`, id))
	if err != nil {
		return registry.Registration{}, t.notFound(err, "registration "+id)
	}
	return r, nil
}

func (t *tx) RegistrationsByNIK(ctx context.Context, nik string) ([]registry.Registration, error) {
	region, nik := registry.SplitNIK(nik)
	rows, err := t.c.query(ctx, `SELECT `+regCols+` FROM registrations WHERE `+regionPred+` AND nik = ?
		ORDER BY created_at, id FOR UPDATE`, region, nik)
	if err != nil {
		return nil, fmt.Errorf("registrations by nik: %w", err)
	}
	defer rows.Close()
	var out []registry.Registration
	for rows.Next() {
		r, err := scanReg(rows)
		if err != nil {
			return nil, fmt.Errorf("registrations by nik: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("registrations by nik: %w", err)
	}
	return out, nil
}

const updateRegSQL = `UPDATE registrations SET nik = ?, email = ?, phone = ?, created_at = ?,
	status = ?, revoked_at = ?, activation_record = ?, approved_at = ?, code_hash = ?, code_expires = ?,
	code_tries = ?, confirmed_at = ?, region = ? WHERE id = ? AND ` + regionPred

func updateRegArgs(r registry.Registration) []any {
	a := regArgs(r)
	return append(a[1:], a[0], a[len(a)-1])
}

func (t *tx) UpdateRegistration(ctx context.Context, r registry.Registration) error {
	n, err := t.c.exec(ctx, updateRegSQL, updateRegArgs(r)...)
	return t.updated(r, n, err)
}

// updated checks an update of r that changed n rows and keeps a locked r current.
func (t *tx) updated(r registry.Registration, n int64, err error) error {
	if err := affected(n, err, "update registration "+r.ID); err != nil {
		return err
	}
	t.keepLocked(r)
	return nil
}

// keepLocked makes r the locked copy of its registration, if this transaction locked it.
func (t *tx) keepLocked(r registry.Registration) {
	if _, ok := t.locked[r.ID]; ok {
		t.locked[r.ID] = r
	}
}

var recordCols = []string{"id", "kiosk_id", "kind", "registration_id", "nik", "at", "received_at",
	"status", "code", "winner", "envelope", "region"}

var insertRecordSQL = `INSERT INTO records (` + strings.Join(recordCols, ", ") + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func recordArgs(r registry.StoredRecord) []any {
	region, nik := registry.SplitNIK(r.NIK)
	return []any{r.ID, r.KioskID, string(r.Kind), r.RegistrationID, nik, ns(r.At), ns(r.ReceivedAt),
		r.Status, r.Code, r.Winner, r.Envelope, region}
}

func (t *tx) InsertRecord(ctx context.Context, r registry.StoredRecord) (bool, error) {
	n, err := t.c.exec(ctx, insertRecordSQL+` ON CONFLICT (id) DO NOTHING`, recordArgs(r)...)
	if err != nil {
		return false, fmt.Errorf("insert record %s: %w", r.ID, err)
	}
	return n == 1, nil
}

func (t *tx) Record(ctx context.Context, id string) (registry.StoredRecord, error) {
	var r registry.StoredRecord
	var kind string
	var at, received int64
	err := t.c.queryRow(ctx, `SELECT id, kiosk_id, kind, registration_id, nik, at, received_at,
		status, code, winner, envelope FROM records WHERE id = ?`, id).Scan(&r.ID, &r.KioskID, &kind,
		&r.RegistrationID, &r.NIK, &at, &received, &r.Status, &r.Code, &r.Winner, &r.Envelope)
	if err != nil {
		return registry.StoredRecord{}, t.notFound(err, "record "+id)
	}
	r.Kind = kiosk.RecordKind(kind)
	r.At, r.ReceivedAt = tm(at), tm(received)
	return r, nil
}

func (t *tx) SetRecordAnswer(ctx context.Context, id string, status int, code, winner string) error {
	n, err := t.c.exec(ctx, `UPDATE records SET status = ?, code = ?, winner = ? WHERE id = ?`,
		status, code, winner, id)
	return affected(n, err, "set record answer "+id)
}

func (t *tx) CountAccepted(ctx context.Context, kind kiosk.RecordKind, regID string, since time.Time) (int, error) {
	var n int
	err := t.c.queryRow(ctx, `SELECT count(*) FROM records
		WHERE registration_id = ? AND kind = ? AND status = ? AND received_at >= ?`,
		regID, string(kind), ikdsync.StatusAccepted, ns(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count %s records of %s: %w", kind, regID, err)
	}
	return n, nil
}

func (t *tx) PurgeRecords(ctx context.Context, before time.Time) (int64, error) {
	n, err := t.c.exec(ctx, `DELETE FROM records WHERE received_at < ?`, ns(before))
	if err != nil {
		return 0, fmt.Errorf("purge records: %w", err)
	}
	return n, nil
}

func (t *tx) PurgeMails(ctx context.Context, before time.Time) (int64, error) {
	n, err := t.c.exec(ctx, `DELETE FROM mails WHERE (sent_at IS NOT NULL AND sent_at < ?) OR (permanent AND created_at < ?)`,
		ns(before), ns(before))
	if err != nil {
		return 0, fmt.Errorf("purge mails: %w", err)
	}
	return n, nil
}

func (t *tx) PurgeRegistrations(ctx context.Context, before time.Time) (int64, error) {
	n, err := t.c.exec(ctx, `DELETE FROM registrations WHERE (status = 'activated' AND confirmed_at < ?)
		OR (status IN ('deactivated', 'revoked') AND revoked_at < ?) OR (status = 'pending' AND created_at < ?)
		OR (status = 'approved' AND code_expires < ?)`, ns(before), ns(before), ns(before), ns(before))
	if err != nil {
		return 0, fmt.Errorf("purge registrations: %w", err)
	}
	return n, nil
}

func (t *tx) InsertTombstone(ctx context.Context, ts registry.Tombstone) error {
	region, nik := registry.SplitNIK(ts.NIK)
	_, err := t.c.exec(ctx, `INSERT INTO tombstones (nik, at, record_id, region) VALUES (?, ?, ?, ?)`,
		nik, ns(ts.At), ts.RecordID, region)
	if err != nil {
		return fmt.Errorf("insert tombstone: %w", err)
	}
	return nil
}

const tombstoneCols = `nik, at, record_id, lifted_at, lifted_by, lift_reason`

func scanTombstone(sc row) (registry.Tombstone, error) {
	var ts registry.Tombstone
	var at, lifted int64
	if err := sc.Scan(&ts.NIK, &at, &ts.RecordID, &lifted, &ts.LiftedBy, &ts.LiftReason); err != nil {
		return registry.Tombstone{}, err
	}
	ts.At, ts.LiftedAt = tm(at), tm(lifted)
	return ts, nil
}

func (t *tx) LatestTombstone(ctx context.Context, nik string) (registry.Tombstone, error) {
	region, nik := registry.SplitNIK(nik)
	ts, err := scanTombstone(t.c.queryRow(ctx, `SELECT `+tombstoneCols+` FROM tombstones WHERE `+regionPred+`
		AND nik = ? AND lifted_at = 0 ORDER BY at DESC, id DESC LIMIT 1`, region, nik))
	if err != nil {
		return registry.Tombstone{}, t.notFound(err, "latest tombstone")
	}
	return ts, nil
}

func (t *tx) Tombstones(ctx context.Context, nik string) ([]registry.Tombstone, error) {
	region, nik := registry.SplitNIK(nik)
	rows, err := t.c.query(ctx, `SELECT `+tombstoneCols+` FROM tombstones WHERE `+regionPred+` AND nik = ?
		ORDER BY at, id`, region, nik)
	if err != nil {
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	defer rows.Close()
	var out []registry.Tombstone
	for rows.Next() {
		ts, err := scanTombstone(rows)
		if err != nil {
			return nil, fmt.Errorf("tombstones: %w", err)
		}
		out = append(out, ts)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	return out, nil
}

func (t *tx) LiftTombstones(ctx context.Context, nik string, at time.Time, by, reason string) (int64, error) {
	region, nik := registry.SplitNIK(nik)
	n, err := t.c.exec(ctx, `UPDATE tombstones SET lifted_at = ?, lifted_by = ?, lift_reason = ?
		WHERE `+regionPred+` AND nik = ? AND lifted_at = 0`, ns(at), by, reason, region, nik)
	if err != nil {
		return 0, fmt.Errorf("lift tombstones: %w", err)
	}
	return n, nil
}

func (t *tx) Checkpoint(ctx context.Context, kioskID string) (registry.Checkpoint, error) {
	var c registry.Checkpoint
	var at int64
	err := t.c.queryRow(ctx, `SELECT kiosk_id, record_id, audit_seq, audit_hash, outbox_seq, at
		FROM checkpoints WHERE kiosk_id = ? FOR UPDATE`, kioskID).Scan(&c.KioskID, &c.RecordID, &c.AuditSeq, &c.AuditHash, &c.OutboxSeq, &at)
	if err != nil {
		return registry.Checkpoint{}, t.notFound(err, "checkpoint of "+kioskID)
	}
	c.At = tm(at)
	return c, nil
}

func (t *tx) PutCheckpoint(ctx context.Context, c registry.Checkpoint) error {
	_, err := t.c.exec(ctx, `INSERT INTO checkpoints (kiosk_id, record_id, audit_seq, audit_hash, outbox_seq, at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kiosk_id) DO UPDATE SET record_id = excluded.record_id,
		audit_seq = excluded.audit_seq, audit_hash = excluded.audit_hash, outbox_seq = excluded.outbox_seq, at = excluded.at`,
		c.KioskID, c.RecordID, c.AuditSeq, c.AuditHash, c.OutboxSeq, ns(c.At))
	if err != nil {
		return fmt.Errorf("put checkpoint of %s: %w", c.KioskID, err)
	}
	return nil
}

func (t *tx) AuditHead(ctx context.Context, kioskID string) (registry.AuditHead, error) {
	var h registry.AuditHead
	var at int64
	err := t.c.queryRow(ctx, `SELECT kiosk_id, audit_seq, audit_hash, outbox_seq, at
		FROM audit_heads WHERE kiosk_id = ? FOR UPDATE`, kioskID).Scan(&h.KioskID, &h.AuditSeq, &h.AuditHash, &h.OutboxSeq, &at)
	if err != nil {
		return registry.AuditHead{}, t.notFound(err, "audit head of "+kioskID)
	}
	h.At = tm(at)
	return h, nil
}

func (t *tx) PutAuditHead(ctx context.Context, h registry.AuditHead) error {
	_, err := t.c.exec(ctx, `INSERT INTO audit_heads (kiosk_id, audit_seq, audit_hash, outbox_seq, at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (kiosk_id) DO UPDATE SET audit_seq = excluded.audit_seq,
		audit_hash = excluded.audit_hash, outbox_seq = excluded.outbox_seq, at = excluded.at`,
		h.KioskID, h.AuditSeq, h.AuditHash, h.OutboxSeq, ns(h.At))
	if err != nil {
		return fmt.Errorf("put audit head of %s: %w", h.KioskID, err)
	}
	return nil
}

// enqueueMailSQL queues a mail due at once, in the region of its registration: next_attempt
// 0 is before any claim's now, whatever the clocks say. %s is the region: an argument, or a
// subquery reading it from the registration (EnqueueMail's mail names only that).
const enqueueMailSQL = `INSERT INTO mails (id, to_addr, code, registration_id, expires_at, attempts,
	created_at, next_attempt, replaces, region) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, %s) ON CONFLICT DO NOTHING`

var (
	enqueueMailRegionSQL = fmt.Sprintf(enqueueMailSQL, "?")
	// A mail queued outside ingest's batch path takes its registration's region: addressed by
	// id, like Registration.
	enqueueMailLookupSQL = fmt.Sprintf(enqueueMailSQL, "coalesce((SELECT region FROM registrations WHERE id = ?), '')")
)

func mailArgs(m mail.Mail) []any {
	return []any{m.ID, m.To, m.Code, m.RegistrationID, ns(m.ExpiresAt), m.Attempts, ns(m.CreatedAt), m.Replaces}
}

func (t *tx) EnqueueMail(ctx context.Context, m mail.Mail) error {
	n, err := t.c.exec(ctx, enqueueMailLookupSQL, append(mailArgs(m), m.RegistrationID)...)
	return enqueued(m, n, err)
}

// enqueued checks the queueing of m, which added n rows.
func enqueued(m mail.Mail, n int64, err error) error {
	if err != nil {
		return fmt.Errorf("enqueue mail %s: %w", m.ID, err)
	}
	// ON CONFLICT, not a failed statement: on PostgreSQL that would abort the whole
	// transaction, and the caller may go on after ErrExists.
	if n == 0 {
		return fmt.Errorf("enqueue mail %s: %w", m.ID, registry.ErrExists)
	}
	return nil
}

// nextChanges reserves k change numbers and returns the first. The write lock makes them
// commit-ordered.
func (t *tx) nextChanges(ctx context.Context, k int) (int64, error) {
	var n int64
	if err := t.c.queryRow(ctx, `UPDATE change_counter SET n = n + ? WHERE id = 1 RETURNING n`, k).Scan(&n); err != nil {
		return 0, fmt.Errorf("change counter: %w", err)
	}
	return n - int64(k) + 1, nil
}

func (t *tx) PutResidents(ctx context.Context, rs []registry.ResidentRow) error {
	if len(rs) == 0 {
		return nil
	}
	first, err := t.nextChanges(ctx, len(rs))
	if err != nil {
		return fmt.Errorf("put residents: %w", err)
	}
	// The areas residents leave are kept before the upserts move them (a NIK twice in rs
	// with three areas keeps its first move only), then one batch, each row its own upsert
	// so a NIK twice in rs behaves as two calls.
	left := make([][]any, len(rs))
	args := make([][]any, len(rs))
	for i, r := range rs {
		region, nik := registry.SplitNIK(r.NIK)
		left[i] = []any{region, nik, r.Kecamatan}
		args[i] = []any{nik, r.Kecamatan, r.Removed, r.Data, first + int64(i), region}
	}
	if _, err := t.c.batch(ctx, leftAreaSQL, left); err != nil {
		return fmt.Errorf("put residents: areas left: %w", err)
	}
	if _, err := t.c.batch(ctx, putResidentSQL, args); err != nil {
		return fmt.Errorf("put residents: %w", err)
	}
	return nil
}

// leftAreaSQL remembers the area a resident leaves, before the upsert moves them.
const leftAreaSQL = `INSERT INTO resident_areas_left (area, nik)
	SELECT kecamatan, nik FROM residents WHERE ` + regionPred + ` AND nik = ? AND kecamatan <> ? ON CONFLICT DO NOTHING`

const (
	residentCols  = `nik, kecamatan, prev_kecamatan, removed, data, revocations, seq`
	residentColsR = `r.nik, r.kecamatan, r.prev_kecamatan, r.removed, r.data, r.revocations, r.seq`
)

func (t *tx) SetRevocations(ctx context.Context, nik string, data []byte) error {
	seq, err := t.nextChanges(ctx, 1)
	if err != nil {
		return fmt.Errorf("set revocations: %w", err)
	}
	region, nik := registry.SplitNIK(nik)
	n, err := t.c.exec(ctx, `UPDATE residents SET revocations = ?, seq = ? WHERE `+regionPred+` AND nik = ?`,
		data, seq, region, nik)
	if err != nil {
		return fmt.Errorf("set revocations: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("set revocations: %w", registry.ErrNotFound)
	}
	return nil
}

const putResidentSQL = `INSERT INTO residents (nik, kecamatan, prev_kecamatan, removed, data, seq, region)
	VALUES (?, ?, '', ?, ?, ?, ?) ON CONFLICT (nik) DO UPDATE SET
	prev_kecamatan = CASE WHEN residents.kecamatan <> excluded.kecamatan THEN residents.kecamatan
		ELSE residents.prev_kecamatan END,
	kecamatan = excluded.kecamatan, removed = excluded.removed, data = excluded.data, seq = excluded.seq,
	region = excluded.region`

func (t *tx) Resident(ctx context.Context, nik string) (registry.ResidentRow, error) {
	var r registry.ResidentRow
	region, nik := registry.SplitNIK(nik)
	err := t.c.queryRow(ctx, `SELECT `+residentCols+` FROM residents
		WHERE `+regionPred+` AND nik = ?`, region, nik).Scan(&r.NIK, &r.Kecamatan, &r.PrevKecamatan, &r.Removed, &r.Data, &r.Revocations, &r.Seq)
	if err != nil {
		return registry.ResidentRow{}, t.notFound(err, "resident")
	}
	return r, nil
}

func (t *tx) PutOfficer(ctx context.Context, o registry.OfficerRow) error {
	seq, err := t.nextChanges(ctx, 1)
	if err != nil {
		return fmt.Errorf("put officer %s: %w", o.ID, err)
	}
	_, err = t.c.exec(ctx, `INSERT INTO officers (id, area, name, role, disabled, seq) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET area = excluded.area, name = excluded.name, role = excluded.role,
		disabled = excluded.disabled, seq = excluded.seq`, o.ID, o.Area, o.Name, string(o.Role), o.Disabled, seq)
	if err != nil {
		return fmt.Errorf("put officer %s: %w", o.ID, err)
	}
	return nil
}

const officerCols = `id, area, name, role, disabled, seq`

func scanOfficer(sc row) (registry.OfficerRow, error) {
	var o registry.OfficerRow
	var role string
	if err := sc.Scan(&o.ID, &o.Area, &o.Name, &role, &o.Disabled, &o.Seq); err != nil {
		return registry.OfficerRow{}, err
	}
	o.Role = kiosk.Role(role)
	return o, nil
}

func (t *tx) Officer(ctx context.Context, id string) (registry.OfficerRow, error) {
	o, err := scanOfficer(t.c.queryRow(ctx, `SELECT `+officerCols+` FROM officers WHERE id = ?`, id))
	if err != nil {
		return registry.OfficerRow{}, t.notFound(err, "officer "+id)
	}
	return o, nil
}

func (t *tx) Officers(ctx context.Context) ([]registry.OfficerRow, error) {
	rows, err := t.c.query(ctx, `SELECT `+officerCols+` FROM officers ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("officers: %w", err)
	}
	defer rows.Close()
	var out []registry.OfficerRow
	for rows.Next() {
		o, err := scanOfficer(rows)
		if err != nil {
			return nil, fmt.Errorf("officers: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("officers: %w", err)
	}
	return out, nil
}

func (t *tx) PutKey(ctx context.Context, k registry.KeyRow) error {
	seq, err := t.nextChanges(ctx, 1)
	if err != nil {
		return fmt.Errorf("put key %s: %w", k.KeyID, err)
	}
	_, err = t.c.exec(ctx, `INSERT INTO registry_keys (key_id, public_key, not_before, not_after, seq)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (key_id) DO UPDATE SET public_key = excluded.public_key,
		not_before = excluded.not_before, not_after = excluded.not_after, seq = excluded.seq`,
		k.KeyID, []byte(k.PublicKey), ns(k.NotBefore), ns(k.NotAfter), seq)
	if err != nil {
		return fmt.Errorf("put key %s: %w", k.KeyID, err)
	}
	return nil
}

func (t *tx) Changes(ctx context.Context, area string, after int64, limit int) (registry.Changes, error) {
	ch := registry.Changes{Last: after}
	if limit <= 0 {
		return ch, nil
	}
	// Each kind is read up to limit+1 past after; the merge keeps the lowest limit numbers.
	// Residents of the area and residents who ever left it, each read by its index.
	rows, err := t.c.query(ctx, `SELECT `+residentCols+` FROM residents WHERE kecamatan = ? AND seq > ?
		UNION SELECT `+residentColsR+` FROM resident_areas_left l JOIN residents r ON r.nik = l.nik
		WHERE l.area = ? AND r.seq > ? ORDER BY seq LIMIT ?`, area, after, area, after, limit+1)
	if err != nil {
		return ch, fmt.Errorf("changes: residents: %w", err)
	}
	for rows.Next() {
		var r registry.ResidentRow
		if err := rows.Scan(&r.NIK, &r.Kecamatan, &r.PrevKecamatan, &r.Removed, &r.Data, &r.Revocations, &r.Seq); err != nil {
			rows.Close()
			return ch, fmt.Errorf("changes: residents: %w", err)
		}
		ch.Residents = append(ch.Residents, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ch, fmt.Errorf("changes: residents: %w", err)
	}
	rows, err = t.c.query(ctx, `SELECT `+officerCols+` FROM officers
		WHERE seq > ? AND (area = ? OR area = '') ORDER BY seq LIMIT ?`, after, area, limit+1)
	if err != nil {
		return ch, fmt.Errorf("changes: officers: %w", err)
	}
	for rows.Next() {
		o, err := scanOfficer(rows)
		if err != nil {
			rows.Close()
			return ch, fmt.Errorf("changes: officers: %w", err)
		}
		ch.Officers = append(ch.Officers, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ch, fmt.Errorf("changes: officers: %w", err)
	}
	if ch.Keys, err = t.keys(ctx, "WHERE seq > ? ORDER BY seq LIMIT ?", after, limit+1); err != nil {
		return ch, fmt.Errorf("changes: %w", err)
	}
	return storeutil.TrimChanges(ch, limit), nil
}

func (t *tx) Keys(ctx context.Context) ([]registry.KeyRow, error) {
	return t.keys(ctx, "ORDER BY key_id")
}

func (t *tx) keys(ctx context.Context, where string, args ...any) ([]registry.KeyRow, error) {
	rows, err := t.c.query(ctx, "SELECT key_id, public_key, not_before, not_after, seq FROM registry_keys "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	defer rows.Close()
	var out []registry.KeyRow
	for rows.Next() {
		var k registry.KeyRow
		var pk []byte
		var nb, na int64
		if err := rows.Scan(&k.KeyID, &pk, &nb, &na, &k.Seq); err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		k.PublicKey, k.NotBefore, k.NotAfter = pk, tm(nb), tm(na)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return out, nil
}

// batchTx is a tx that also reads for a whole batch in one query each (registry.BatchTx),
// for a database where each statement is a round trip.
type batchTx struct {
	*tx
}

var _ registry.BatchTx = (*batchTx)(nil)

func (t *batchTx) LatestTombstones(ctx context.Context, niks []string) (map[string]registry.Tombstone, error) {
	out := map[string]registry.Tombstone{}
	if len(niks) == 0 {
		return out, nil
	}
	regions, niks := splitNIKs(niks)
	rows, err := t.c.query(ctx, `SELECT DISTINCT ON (nik) `+tombstoneCols+` FROM tombstones
		WHERE region = ANY(?) AND nik = ANY(?) AND lifted_at = 0 ORDER BY nik, at DESC, id DESC`, regions, niks)
	if err != nil {
		return nil, fmt.Errorf("latest tombstones: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		ts, err := scanTombstone(rows)
		if err != nil {
			return nil, fmt.Errorf("latest tombstones: %w", err)
		}
		out[ts.NIK] = ts
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("latest tombstones: %w", err)
	}
	return out, nil
}

// splitNIKs splits a batch's NIKs (registry.SplitNIK) into the regions they are in, the
// empty region included as regionPred has it, and the nik column values.
func splitNIKs(in []string) (regions, niks []string) {
	regions = []string{""}
	niks = make([]string, len(in))
	for i, s := range in {
		var region string
		region, niks[i] = registry.SplitNIK(s)
		if !slices.Contains(regions, region) {
			regions = append(regions, region)
		}
	}
	return regions, niks
}

func (t *batchTx) InsertRecords(ctx context.Context, rs []registry.StoredRecord) ([]bool, error) {
	args := make([][]any, len(rs))
	for i, r := range rs {
		args[i] = recordArgs(r)
	}
	n, err := t.c.batch(ctx, insertRecordSQL+` ON CONFLICT (id) DO NOTHING`, args)
	if err != nil {
		return nil, fmt.Errorf("insert %d records: %w", len(rs), err)
	}
	inserted := make([]bool, len(rs))
	for i := range n {
		inserted[i] = n[i] == 1
	}
	return inserted, nil
}

func (t *batchTx) UpdateRegistrationAndEnqueueMail(ctx context.Context, r registry.Registration, m mail.Mail) error {
	region, _ := registry.SplitNIK(r.NIK)
	// InTx wraps every transaction of a batch dialect in a deferringTx; a read-only one has none.
	d, ok := t.c.(*deferringTx)
	if !ok {
		return fmt.Errorf("update registration %s: not in a read-write transaction", r.ID)
	}
	// Both go with the transaction's next statement; the locked copy is current now.
	d.hold(stmt{updateRegSQL, updateRegArgs(r)}, func(n int64) error { return affected(n, nil, "update registration "+r.ID) })
	d.hold(stmt{enqueueMailRegionSQL, append(mailArgs(m), region)}, func(n int64) error { return enqueued(m, n, nil) })
	t.keepLocked(r)
	return nil
}

func (t *batchTx) Residents(ctx context.Context, niks []string) (map[string]registry.ResidentRow, error) {
	out := map[string]registry.ResidentRow{}
	if len(niks) == 0 {
		return out, nil
	}
	regions, niks := splitNIKs(niks)
	rows, err := t.c.query(ctx, `SELECT `+residentCols+` FROM residents WHERE region = ANY(?) AND nik = ANY(?)`, regions, niks)
	if err != nil {
		return nil, fmt.Errorf("residents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r registry.ResidentRow
		if err := rows.Scan(&r.NIK, &r.Kecamatan, &r.PrevKecamatan, &r.Removed, &r.Data, &r.Revocations, &r.Seq); err != nil {
			return nil, fmt.Errorf("residents: %w", err)
		}
		out[r.NIK] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("residents: %w", err)
	}
	return out, nil
}

func (t *batchTx) LockRegistrations(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	// Locked in id order, as every batch locks them, so two batches do not deadlock.
	rows, err := t.c.query(ctx, `SELECT `+regCols+` FROM registrations WHERE id = ANY(?) ORDER BY id FOR UPDATE`, ids)
	if err != nil {
		return fmt.Errorf("lock registrations: %w", err)
	}
	defer rows.Close()
	if t.locked == nil {
		t.locked = map[string]registry.Registration{}
	}
	for rows.Next() {
		r, err := scanReg(rows)
		if err != nil {
			return fmt.Errorf("lock registrations: %w", err)
		}
		t.locked[r.ID] = r
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("lock registrations: %w", err)
	}
	return nil
}
