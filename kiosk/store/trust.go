package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

var _ kiosk.TrustStore = (*Store)(nil)

// Trust store errors.
var (
	ErrInvalidRegistryKey = &kiosk.Error{Code: "trust.invalid_key", Msg: kiosk.Message{
		ID: "Kunci registri tidak valid (harus kunci publik Ed25519 32 byte dengan ID).",
		EN: "Invalid registry key (must be a 32-byte Ed25519 public key with an id)."}}
	ErrKeyConflict = &kiosk.Error{Code: "trust.key_conflict", Msg: kiosk.Message{
		ID: "ID kunci registri sudah dipakai untuk kunci lain; kunci baru harus memakai ID baru.",
		EN: "This registry key id already names a different key; a new key needs a new id."}}
)

// RegistryKey implements kiosk.TrustStore. A key row that fails its MAC (planted or edited
// with sqlite3) is never returned: the error matches ErrTampered, so a token it signed fails.
func (s *Store) RegistryKey(ctx context.Context, kid string) (kiosk.RegistryKey, error) {
	row := s.db.QueryRowContext(ctx, "SELECT kid, public_key, not_before, not_after, mac FROM registry_keys WHERE kid = ?", kid)
	k, err := s.scanRegistryKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return kiosk.RegistryKey{}, kiosk.ErrNotFound.With(fmt.Errorf("registry key %q", kid))
	}
	if err != nil {
		return kiosk.RegistryKey{}, fmt.Errorf("registry key %q: %w", kid, err)
	}
	return k, nil
}

// scanRegistryKey reads one row and checks its MAC.
func (s *Store) scanRegistryKey(row interface{ Scan(...any) error }) (kiosk.RegistryKey, error) {
	var (
		k        kiosk.RegistryKey
		nb, na   int64
		pub, mac []byte
	)
	if err := row.Scan(&k.KeyID, &pub, &nb, &na, &mac); err != nil {
		return k, classify(err)
	}
	if !s.keys.checkRow("registry_keys", registryKeyFields(k.KeyID, pub, nb, na), mac) {
		return kiosk.RegistryKey{}, tampered("registry_keys", fmt.Sprintf("%q", k.KeyID), "MAC does not match (key planted or edited outside the kiosk)")
	}
	k.PublicKey, k.NotBefore, k.NotAfter = pub, fromUnixNano(nb), fromUnixNano(na)
	return k, nil
}

// RegistryKeys lists the trusted keys by id. Rows that fail their MAC are left out and
// reported in an error matching ErrTampered, returned with the good keys.
func (s *Store) RegistryKeys(ctx context.Context) ([]kiosk.RegistryKey, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT kid, public_key, not_before, not_after, mac FROM registry_keys ORDER BY kid")
	if err != nil {
		return nil, fmt.Errorf("list registry keys: %w", classify(err))
	}
	defer rows.Close()
	var (
		out []kiosk.RegistryKey
		bad skipped
	)
	for rows.Next() {
		k, err := s.scanRegistryKey(rows)
		var re *RowError
		switch {
		case errors.As(err, &re):
			bad.add(ctx, *re)
		case err != nil:
			return nil, fmt.Errorf("list registry keys: %w", err)
		default:
			out = append(out, k)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list registry keys: %w", classify(err))
	}
	return out, bad.err()
}

// AddRegistryKey trusts k. Adding a key that is already trusted updates its validity window
// (the registry shortens it when it retires a key); reusing an id for different key bytes
// fails with ErrKeyConflict, since key ids are what tokens name. actorID is recorded in the
// audit log.
func (s *Store) AddRegistryKey(ctx context.Context, actorID string, k kiosk.RegistryKey) error {
	if err := validRegistryKey(k); err != nil {
		return err
	}
	now := s.now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := s.putRegistryKey(ctx, tx, actorID, k, now, false); err != nil {
			return err
		}
		return s.setAsOf(ctx, tx, metaKeysAsOf, now)
	})
	if err != nil {
		return fmt.Errorf("add registry key %q: %w", k.KeyID, err)
	}
	return nil
}

func validRegistryKey(k kiosk.RegistryKey) error {
	if k.KeyID == "" || len(k.PublicKey) != ed25519.PublicKeySize {
		return ErrInvalidRegistryKey.With(fmt.Errorf("key id %q, %d key bytes", k.KeyID, len(k.PublicKey)))
	}
	if !k.NotAfter.IsZero() && !k.NotAfter.After(k.NotBefore) {
		return ErrInvalidRegistryKey.With(fmt.Errorf("key %q: not_after %s is not after not_before %s", k.KeyID, k.NotAfter, k.NotBefore))
	}
	return nil
}

// putRegistryKey upserts the valid key k inside tx with an audit entry, and reports whether
// anything changed. With skipSame, a key stored exactly so already is left alone and not
// audited: a delta page repeats the keys, and the audit log should show rotations, not pulls.
func (s *Store) putRegistryKey(ctx context.Context, tx *sql.Tx, actorID string, k kiosk.RegistryKey, now time.Time, skipSame bool) (bool, error) {
	nb, na := toUnixNano(k.NotBefore), toUnixNano(k.NotAfter)
	// A planted row under this id fails its MAC here and blocks the id until removed.
	old, err := s.scanRegistryKey(tx.QueryRowContext(ctx,
		"SELECT kid, public_key, not_before, not_after, mac FROM registry_keys WHERE kid = ?", k.KeyID))
	action := "trust.key_added"
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return false, err
	case !bytes.Equal(old.PublicKey, k.PublicKey):
		return false, ErrKeyConflict.With(fmt.Errorf("key id %q", k.KeyID))
	case skipSame && toUnixNano(old.NotBefore) == nb && toUnixNano(old.NotAfter) == na:
		return false, nil
	case skipSame:
		action = "trust.key_updated"
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO registry_keys (kid, public_key, not_before, not_after, added_at, mac)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kid) DO UPDATE
		SET not_before = excluded.not_before, not_after = excluded.not_after, mac = excluded.mac`,
		k.KeyID, k.PublicKey, nb, na, now.UnixNano(), s.keys.rowMAC("registry_keys", registryKeyFields(k.KeyID, k.PublicKey, nb, na)))
	if err != nil {
		return false, err
	}
	return true, s.appendAudit(ctx, tx, kiosk.AuditEvent{Time: now, OfficerID: actorID, Action: action,
		Subject: k.KeyID, Detail: fmt.Sprintf("valid %s to %s", fmtTime(k.NotBefore), fmtTime(k.NotAfter))})
}

// Zero times are stored as 0 ("no bound").
func toUnixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
