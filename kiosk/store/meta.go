package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Keys of the meta table.
const (
	metaKDFSalt        = "kdf_salt"
	metaKDFParams      = "kdf_params"
	metaWrappedKey     = "wrapped_data_key"
	metaKioskID        = "kiosk_id"
	metaDeviceKey      = "device_key" // sealed Ed25519 seed
	metaResidentCursor = "resident_cursor"
	metaAuditHead      = "audit_head"
)

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func setMeta(ctx context.Context, tx execer, key string, value []byte) error {
	_, err := tx.ExecContext(ctx,
		"INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		key, value)
	if err != nil {
		return fmt.Errorf("write meta %s: %w", key, err)
	}
	return nil
}

// getMeta returns the value of key, or nil when it is not set.
func getMeta(ctx context.Context, q querier, key string) ([]byte, error) {
	var v []byte
	err := q.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read meta %s: %w", key, classify(err))
	}
	return v, nil
}

// readMeta returns the values of keys, all of which must be set in a kiosk store.
func readMeta(ctx context.Context, q querier, keys ...string) (map[string][]byte, error) {
	m := make(map[string][]byte, len(keys))
	for _, k := range keys {
		v, err := getMeta(ctx, q, k)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, ErrNotKioskStore.With(fmt.Errorf("meta %s missing", k))
		}
		m[k] = v
	}
	return m, nil
}

func (p KDFParams) encode() []byte {
	return fmt.Appendf(nil, "argon2id t=%d m=%d p=%d", p.Time, p.MemoryKiB, p.Threads)
}

func decodeKDFParams(b []byte) (KDFParams, error) {
	var p KDFParams
	if _, err := fmt.Sscanf(string(b), "argon2id t=%d m=%d p=%d", &p.Time, &p.MemoryKiB, &p.Threads); err != nil {
		return p, fmt.Errorf("kdf params %q: %w", b, err)
	}
	return p, p.valid()
}
