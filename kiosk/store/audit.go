package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"

	"github.com/ikd-field/ikd/kiosk"
)

// The audit log is a hash chain: each entry's hash is SHA-256 over the previous hash and the
// entry's canonical content, so editing, reordering or removing an entry breaks every later
// link. A plain hash chain can be recomputed by anyone holding the file, so each hash is also
// sealed with an HMAC under a key derived from the data key: without the unlock secret
// nobody can produce a chain that verifies. HMAC rather than a device-key signature because
// it is cheap per entry and the verifier (this kiosk) holds the key anyway; what HMAC cannot
// stop — someone with the unlock secret rewriting history — is what the signed audit
// checkpoints sent to the registry are for. The meta table keeps the sealed head (last
// sequence number and hash) so that removing the newest entries is detected too.

// ErrAuditBroken: VerifyAudit found an entry edited, removed or forged. The cause is a
// *ChainError naming the first broken entry.
var ErrAuditBroken = &kiosk.Error{Code: "audit.broken", Msg: kiosk.Message{
	ID: "Log audit telah diubah atau dihapus; laporkan ke supervisor dan jangan gunakan kiosk.",
	EN: "The audit log has been altered or truncated; report it to a supervisor and stop using the kiosk."}}

// ErrPlainNIK: an audit event's subject holds a plain NIK; use NIK.Masked or a record id.
var ErrPlainNIK = &kiosk.Error{Code: "audit.plain_nik", Msg: msgInternalError}

var msgInternalError = kiosk.Message{
	ID: "Terjadi kesalahan sistem; hubungi petugas TI (lihat log).",
	EN: "A system error occurred; contact IT support (see the log).",
}

// ChainError names the first audit entry where verification failed.
type ChainError struct {
	Entry  int64 // sequence number of the first broken entry
	Reason string
}

func (e *ChainError) Error() string { return fmt.Sprintf("audit entry %d: %s", e.Entry, e.Reason) }

// OperatorActor is the audit's actor for what is done at the console (ikdctl) rather than
// by an officer signed in at the window.
const OperatorActor = "operator"

// Record appends ev to the audit log durably.
func (s *Store) Record(ctx context.Context, ev kiosk.AuditEvent) error {
	if err := s.write(ctx, func(tx *sql.Tx) error { return s.appendAudit(ctx, tx, ev) }); err != nil {
		return fmt.Errorf("record audit %s: %w", ev.Action, err)
	}
	return nil
}

// auditEntry is one row as stored.
type auditEntry struct {
	seq, at                  int64
	officer, action, subject string
	detail                   []byte // sealed; empty once purged (version 2 only)
	version                  int64  // 1: the hash covers detail; 2: it covers digest
	digest                   []byte // SHA-256 of the sealed detail (version 2)
}

// auditHashVersion is the hash written for new entries: over the detail's digest, so the
// retention purge can erase the detail and keep the chain.
const auditHashVersion = 2

// hash is SHA-256 over a domain label, the previous hash and the length-prefixed fields.
// Version 1 hashes the sealed detail itself, version 2 its digest; the labels differ, so an
// entry cannot be passed off as the other version.
func (e auditEntry) hash(prev []byte) []byte {
	h := sha256.New()
	detail := e.detail
	if e.version == 2 {
		h.Write([]byte("ikd-audit v2\x00"))
		detail = e.digest
	} else {
		h.Write([]byte("ikd-audit v1\x00"))
	}
	h.Write(prev)
	var b []byte
	b = binary.BigEndian.AppendUint64(b, uint64(e.seq))
	b = binary.BigEndian.AppendUint64(b, uint64(e.at))
	for _, f := range [][]byte{[]byte(e.officer), []byte(e.action), []byte(e.subject), detail} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	h.Write(b)
	return h.Sum(nil)
}

func (s *Store) auditMAC(label string, seq int64, hash []byte) []byte {
	m := hmac.New(sha256.New, s.keys.audit)
	m.Write([]byte(label))
	m.Write(binary.BigEndian.AppendUint64(nil, uint64(seq)))
	m.Write(hash)
	return m.Sum(nil)
}

func auditAAD(seq int64) []byte {
	return binary.BigEndian.AppendUint64([]byte("audit\x00"), uint64(seq))
}

// appendAudit adds ev as the next entry inside tx, which must be a write transaction.
func (s *Store) appendAudit(ctx context.Context, tx *sql.Tx, ev kiosk.AuditEvent) error {
	if containsNIK(ev.Subject) {
		return ErrPlainNIK.With(fmt.Errorf("audit %s: subject holds a plain NIK", ev.Action))
	}
	if ev.Time.IsZero() {
		ev.Time = s.now()
	}
	seq, prev, err := s.auditHead(ctx, tx)
	if err != nil {
		return err
	}
	e := auditEntry{seq: seq + 1, at: ev.Time.UnixNano(), officer: ev.OfficerID, action: ev.Action,
		subject: ev.Subject}
	e.detail = s.keys.seal([]byte(ev.Detail), auditAAD(e.seq))
	d := sha256.Sum256(e.detail)
	e.version, e.digest = auditHashVersion, d[:]
	h := e.hash(prev)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit
		(seq, at, officer_id, action, subject, detail_sealed, prev_hash, hash, mac, hash_version, detail_digest)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.seq, e.at, e.officer, e.action, e.subject, e.detail, prev, h, s.auditMAC("entry", e.seq, h), e.version, e.digest)
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	head := binary.BigEndian.AppendUint64(nil, uint64(e.seq))
	head = append(head, h...)
	head = append(head, s.auditMAC("head", e.seq, h)...)
	return setMeta(ctx, tx, metaAuditHead, head)
}

// auditHead returns the newest entry's sequence number and hash (0 and 32 zero bytes for an
// empty log), checking the head's seal.
func (s *Store) auditHead(ctx context.Context, q querier) (int64, []byte, error) {
	v, err := getMeta(ctx, q, metaAuditHead)
	if err != nil {
		return 0, nil, err
	}
	if v == nil {
		return 0, make([]byte, sha256.Size), nil
	}
	if len(v) != 8+2*sha256.Size {
		return 0, nil, ErrAuditBroken.With(&ChainError{Reason: "head record is malformed"})
	}
	seq, h := int64(binary.BigEndian.Uint64(v)), v[8:8+sha256.Size]
	if !hmac.Equal(v[8+sha256.Size:], s.auditMAC("head", seq, h)) {
		return 0, nil, ErrAuditBroken.With(&ChainError{Entry: seq, Reason: "head seal is invalid (head record rewritten)"})
	}
	return seq, h, nil
}

// VerifyAudit checks the whole chain and returns its length. When an entry was edited,
// removed, reordered or forged it returns an error matching ErrAuditBroken whose cause is a
// *ChainError naming the first broken entry.
func (s *Store) VerifyAudit(ctx context.Context) (int64, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // one consistent snapshot
	if err != nil {
		return 0, classify(err)
	}
	defer tx.Rollback()
	headSeq, headHash, err := s.auditHead(ctx, tx)
	if err != nil {
		return 0, err
	}
	if headSeq == 0 {
		return 0, ErrAuditBroken.With(&ChainError{Entry: 1, Reason: "head record missing (log emptied)"})
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, at, officer_id, action, subject, detail_sealed,
		prev_hash, hash, mac, hash_version, detail_digest FROM audit ORDER BY seq`)
	if err != nil {
		return 0, classify(err)
	}
	defer rows.Close()
	var n int64
	prev := make([]byte, sha256.Size)
	for rows.Next() {
		var e auditEntry
		var prevHash, h, mac []byte
		if err := rows.Scan(&e.seq, &e.at, &e.officer, &e.action, &e.subject, &e.detail, &prevHash, &h, &mac, &e.version, &e.digest); err != nil {
			return n, ErrAuditBroken.With(&ChainError{Entry: n + 1, Reason: fmt.Sprintf("unreadable: %v", err)})
		}
		if err := s.checkEntry(e, n+1, prev, prevHash, h, mac); err != nil {
			return n, ErrAuditBroken.With(err)
		}
		prev, n = h, e.seq
	}
	if err := rows.Err(); err != nil {
		return n, classify(err)
	}
	if n < headSeq {
		return n, ErrAuditBroken.With(&ChainError{Entry: n + 1,
			Reason: fmt.Sprintf("entries %d to %d are missing (log truncated)", n+1, headSeq)})
	}
	if n > headSeq || !bytes.Equal(prev, headHash) {
		return n, ErrAuditBroken.With(&ChainError{Entry: headSeq, Reason: "does not match the sealed head"})
	}
	return n, nil
}

func (s *Store) checkEntry(e auditEntry, want int64, prev, prevHash, h, mac []byte) *ChainError {
	switch {
	case e.seq != want:
		return &ChainError{Entry: want, Reason: fmt.Sprintf("missing (next entry found is %d)", e.seq)}
	case !bytes.Equal(prevHash, prev):
		return &ChainError{Entry: e.seq, Reason: "does not link to the entry before it"}
	case e.version != 1 && e.version != 2:
		return &ChainError{Entry: e.seq, Reason: fmt.Sprintf("unknown hash version %d", e.version)}
	case e.version == 1 && len(e.detail) == 0:
		return &ChainError{Entry: e.seq, Reason: "detail removed from an entry that cannot be purged"}
	case e.version == 2 && len(e.detail) > 0 && !bytes.Equal(sha256Of(e.detail), e.digest):
		return &ChainError{Entry: e.seq, Reason: "detail does not match its digest (edited)"}
	case !bytes.Equal(e.hash(prev), h):
		return &ChainError{Entry: e.seq, Reason: "content does not match its hash (edited)"}
	case !hmac.Equal(mac, s.auditMAC("entry", e.seq, h)):
		return &ChainError{Entry: e.seq, Reason: "seal is invalid (rewritten without the kiosk key)"}
	}
	return nil
}

// containsNIK reports whether s holds 16 consecutive digits that form a valid NIK.
func containsNIK(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			run = 0
			continue
		}
		if run++; run >= 16 {
			if _, err := kiosk.ParseNIK(s[i-15 : i+1]); err == nil {
				return true
			}
		}
	}
	return false
}

func sha256Of(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}
