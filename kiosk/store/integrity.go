package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"strings"

	"github.com/ikd-field/ikd/kiosk"
)

// Every row whose content grants trust or decides a workflow step carries a MAC (HMAC-SHA256
// under the "row mac" key derived from the data key) over its table name and the columns that
// matter, so that someone who can edit the file with sqlite3 but lacks the unlock secret
// cannot plant a registry key, promote an officer, clear a lockout, mark a record sent or
// swap envelopes. A row whose MAC fails is refused where it is read (ErrTampered) and the
// rest is read on. Per-row MACs cannot see a row that was deleted, or an older copy of a whole
// row put back; two sealed summaries in meta cover that: the outbox head (last sequence number
// and row count; records are never deleted) and the resident digest (count and XOR of the row
// MACs, checked whenever the whole snapshot is read).

// ErrTampered: a row failed its integrity check (edited outside the kiosk). The cause is a
// *RowError, or a *TamperedError listing several.
var ErrTampered = &kiosk.Error{Code: "store.tampered", Msg: kiosk.Message{
	ID: "Data kiosk telah diubah di luar aplikasi dan tidak dipercaya; laporkan ke supervisor dan hubungi petugas TI.",
	EN: "Kiosk data was altered outside the application and is not trusted; report it to a supervisor and contact IT support."}}

// RowError names one row that failed its integrity check.
type RowError struct {
	Table  string // registry_keys, officers, outbox, residents, meta
	Row    string // the key id, officer id, record id or resident row number; never a NIK
	Reason string
}

func (e *RowError) Error() string { return fmt.Sprintf("%s row %s: %s", e.Table, e.Row, e.Reason) }

// TamperedError lists the rows a read skipped because they failed their integrity check.
type TamperedError struct{ Rows []RowError }

func (e *TamperedError) Error() string {
	parts := make([]string, len(e.Rows))
	for i, r := range e.Rows {
		parts[i] = r.Error()
	}
	return fmt.Sprintf("%d rows refused: %s", len(e.Rows), strings.Join(parts, "; "))
}

// skipped collects the rows a read refused, logging each, and turns them into the read's error.
type skipped struct{ rows []RowError }

func (s *skipped) add(ctx context.Context, r RowError) {
	slog.WarnContext(ctx, "store: row refused", "table", r.Table, "row", r.Row, "reason", r.Reason)
	s.rows = append(s.rows, r)
}

func (s *skipped) err() error {
	if len(s.rows) == 0 {
		return nil
	}
	return ErrTampered.With(&TamperedError{Rows: s.rows})
}

// rowErr returns the *RowError in err, or nil when err is something else.
func rowErr(err error) *RowError {
	var re *RowError
	if errors.As(err, &re) {
		return re
	}
	return nil
}

func tampered(table, row, reason string) error {
	return ErrTampered.With(&RowError{Table: table, Row: row, Reason: reason})
}

// macFields is a canonical encoding: each field length-prefixed, so no two field lists share
// an encoding.
type macFields [][]byte

func i64(n int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

func (k *keyring) rowMAC(table string, f macFields) []byte {
	m := k.rowHMACs.Get().(hash.Hash)
	defer k.rowHMACs.Put(m)
	m.Reset()
	var n [binary.MaxVarintLen64]byte
	m.Write([]byte("ikd-row v1\x00"))
	io.WriteString(m, table)
	m.Write(n[:1]) // the zero byte after the table name
	for _, b := range f {
		m.Write(binary.AppendUvarint(n[:0], uint64(len(b))))
		m.Write(b)
	}
	return m.Sum(nil)
}

func (k *keyring) checkRow(table string, f macFields, mac []byte) bool {
	return hmac.Equal(mac, k.rowMAC(table, f))
}

func registryKeyFields(kid string, pub []byte, notBefore, notAfter int64) macFields {
	return macFields{[]byte(kid), pub, i64(notBefore), i64(notAfter)}
}

// officerRow is the trust-granting state of an officer as stored.
type officerRow struct {
	id                       string
	role                     string
	disabled                 bool
	hash, salt               []byte
	params                   string
	failed, locked, lockouts int64
}

func (o officerRow) fields() macFields {
	dis := int64(0)
	if o.disabled {
		dis = 1
	}
	return macFields{[]byte(o.id), []byte(o.role), i64(dis), o.hash, o.salt, []byte(o.params),
		i64(o.failed), i64(o.locked), i64(o.lockouts)}
}

// outboxRow is an outbox row as stored (envelope still sealed).
type outboxRow struct {
	seq           int64
	id, kind      string
	nikBI, regBI  []byte
	envelope      []byte
	state, answer string
	createdAt     int64
}

func (r outboxRow) fields() macFields {
	return macFields{i64(r.seq), []byte(r.id), []byte(r.kind), r.nikBI, r.regBI, r.envelope,
		[]byte(r.state), []byte(r.answer), i64(r.createdAt)}
}

func residentFields(bi []byte, kecamatan string, version int64, sealed []byte) macFields {
	return macFields{bi, []byte(kecamatan), i64(version), sealed}
}

// identityFields bind the kiosk id to its device key, so another kiosk's id cannot be written
// into this file (see Options.ExpectKioskID).
func identityFields(kioskID string, sealedDeviceKey []byte) macFields {
	return macFields{[]byte(kioskID), sealedDeviceKey}
}

// Sealed summaries in meta.
const (
	metaOutboxHead     = "outbox_head"     // last seq (8) | count (8) | mac
	metaResidentDigest = "resident_digest" // version counter (8) | count (8) | xor of row MACs (32) | mac
	metaIdentityMAC    = "identity_mac"
)

type outboxHead struct{ last, count int64 }

func (k *keyring) encodeOutboxHead(h outboxHead) []byte {
	b := append(i64(h.last), i64(h.count)...)
	return append(b, k.rowMAC("outbox_head", macFields{b})...)
}

func (k *keyring) decodeOutboxHead(v []byte) (outboxHead, error) {
	if v == nil {
		return outboxHead{}, nil
	}
	if len(v) != 16+sha256.Size || !k.checkRow("outbox_head", macFields{v[:16]}, v[16:]) {
		return outboxHead{}, tampered("meta", metaOutboxHead, "seal is invalid")
	}
	return outboxHead{last: int64(binary.BigEndian.Uint64(v)), count: int64(binary.BigEndian.Uint64(v[8:]))}, nil
}

// residentDigest is an incremental set hash of the resident rows: adding a row XORs its MAC
// in, replacing or removing one XORs the old MAC out. Without the row key nobody can make a
// set of rows whose MACs XOR to the sealed value.
type residentDigest struct {
	version, count int64
	xor            [sha256.Size]byte
}

func (d *residentDigest) toggle(mac []byte) {
	for i := range d.xor {
		d.xor[i] ^= mac[i]
	}
}

func (k *keyring) encodeResidentDigest(d residentDigest) []byte {
	b := append(i64(d.version), i64(d.count)...)
	b = append(b, d.xor[:]...)
	return append(b, k.rowMAC("resident_digest", macFields{b})...)
}

func (k *keyring) decodeResidentDigest(v []byte) (residentDigest, error) {
	var d residentDigest
	if v == nil {
		return d, nil
	}
	const n = 16 + sha256.Size
	if len(v) != n+sha256.Size || !k.checkRow("resident_digest", macFields{v[:n]}, v[n:]) {
		return d, tampered("meta", metaResidentDigest, "seal is invalid")
	}
	d.version, d.count = int64(binary.BigEndian.Uint64(v)), int64(binary.BigEndian.Uint64(v[8:]))
	copy(d.xor[:], v[16:n])
	return d, nil
}

func (s *Store) outboxHead(ctx context.Context, q querier) (outboxHead, error) {
	v, err := getMeta(ctx, q, metaOutboxHead)
	if err != nil {
		return outboxHead{}, err
	}
	return s.keys.decodeOutboxHead(v)
}

func (s *Store) residentDigest(ctx context.Context, q querier) (residentDigest, error) {
	v, err := getMeta(ctx, q, metaResidentDigest)
	if err != nil {
		return residentDigest{}, err
	}
	return s.keys.decodeResidentDigest(v)
}

// checkOutboxComplete compares the outbox with its sealed head: a deleted record (which would
// let a registration be activated again) shows as a missing sequence number.
func (s *Store) checkOutboxComplete(ctx context.Context, q querier) error {
	h, err := s.outboxHead(ctx, q)
	if err != nil {
		return err
	}
	var count, last int64
	if err := q.QueryRowContext(ctx, "SELECT count(*), coalesce(max(seq), 0) FROM outbox").Scan(&count, &last); err != nil {
		return classify(err)
	}
	if count != h.count || last != h.last {
		return tampered("outbox", fmt.Sprint(h.last), fmt.Sprintf(
			"%d records up to seq %d, the sealed head says %d up to %d (records deleted or put back)", count, last, h.count, h.last))
	}
	return nil
}

// signAll computes the MAC of every row of a store made before rows were authenticated. It
// runs once, inside the migration's transaction, right after the store is unlocked: whatever
// the file holds at that moment becomes trusted, so an edit made to a schema-1 file before
// its first unlock by a schema-2 build cannot be told apart (README, "Security at rest").
func signAll(ctx context.Context, tx *sql.Tx, k *keyring) error {
	if err := signRows(ctx, tx, "SELECT kid, public_key, not_before, not_after FROM registry_keys",
		func(rows *sql.Rows) (string, []any, error) {
			var kid string
			var pub []byte
			var nb, na int64
			err := rows.Scan(&kid, &pub, &nb, &na)
			return "UPDATE registry_keys SET mac = ? WHERE kid = ?",
				[]any{k.rowMAC("registry_keys", registryKeyFields(kid, pub, nb, na)), kid}, err
		}); err != nil {
		return err
	}
	if err := signRows(ctx, tx, `SELECT id, role, disabled, pin_hash, pin_salt, pin_params, failed_attempts,
		locked_until, lockouts FROM officers`, func(rows *sql.Rows) (string, []any, error) {
		var o officerRow
		err := rows.Scan(&o.id, &o.role, &o.disabled, &o.hash, &o.salt, &o.params, &o.failed, &o.locked, &o.lockouts)
		return "UPDATE officers SET mac = ? WHERE id = ?", []any{k.rowMAC("officers", o.fields()), o.id}, err
	}); err != nil {
		return err
	}
	var head outboxHead
	if err := signRows(ctx, tx, `SELECT seq, id, kind, nik_bi, reg_bi, envelope, state, answer, created_at
		FROM outbox ORDER BY seq`, func(rows *sql.Rows) (string, []any, error) {
		var r outboxRow
		err := rows.Scan(&r.seq, &r.id, &r.kind, &r.nikBI, &r.regBI, &r.envelope, &r.state, &r.answer, &r.createdAt)
		head.last, head.count = r.seq, head.count+1
		return "UPDATE outbox SET mac = ? WHERE seq = ?", []any{k.rowMAC("outbox", r.fields()), r.seq}, err
	}); err != nil {
		return err
	}
	d := residentDigest{version: 1}
	if err := signRows(ctx, tx, "SELECT id, nik_bi, kecamatan, sealed FROM residents",
		func(rows *sql.Rows) (string, []any, error) {
			var id int64
			var bi, sealed []byte
			var kec string
			err := rows.Scan(&id, &bi, &kec, &sealed)
			mac := k.rowMAC("residents", residentFields(bi, kec, d.version, sealed))
			d.toggle(mac)
			d.count++
			return "UPDATE residents SET version = ?, mac = ? WHERE id = ?", []any{d.version, mac, id}, err
		}); err != nil {
		return err
	}
	if err := setMeta(ctx, tx, metaOutboxHead, k.encodeOutboxHead(head)); err != nil {
		return err
	}
	if err := setMeta(ctx, tx, metaResidentDigest, k.encodeResidentDigest(d)); err != nil {
		return err
	}
	id, err := getMeta(ctx, tx, metaKioskID)
	if err != nil || id == nil { // a store being created writes its identity itself
		return err
	}
	return setIdentityMAC(ctx, tx, k, id)
}

func setIdentityMAC(ctx context.Context, tx *sql.Tx, k *keyring, kioskID []byte) error {
	dev, err := getMeta(ctx, tx, metaDeviceKey)
	if err != nil {
		return err
	}
	return setMeta(ctx, tx, metaIdentityMAC, k.rowMAC("identity", identityFields(string(kioskID), dev)))
}

// signRows reads every row of query and runs the update each returns. The reads are buffered
// first: SQLite does not allow updating a table while a statement still iterates over it.
func signRows(ctx context.Context, tx *sql.Tx, query string, next func(*sql.Rows) (string, []any, error)) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	type update struct {
		sql  string
		args []any
	}
	var ups []update
	for rows.Next() {
		q, args, err := next(rows)
		if err != nil {
			rows.Close()
			return err
		}
		ups = append(ups, update{q, args})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, u := range ups {
		if _, err := tx.ExecContext(ctx, u.sql, u.args...); err != nil {
			return fmt.Errorf("sign rows: %w", err)
		}
	}
	return nil
}
