package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

var _ kiosk.Freshness = (*Store)(nil)

// Meta keys of the times the kiosk's data was last brought up to date. The values are
// sealed (bound to their key): someone who can edit the file must not make old data look
// fresh and so lift the stale-data policy.
const (
	metaResidentsAsOf   = "residents_as_of"
	metaKeysAsOf        = "keys_as_of"
	metaRevocationsAsOf = "revocations_as_of"
)

// setAsOf records that the data of key is up to date as of at, unless it already is as of a
// later time: data brought by an older stick or page does not make the kiosk's data younger
// or older than what it already holds.
func (s *Store) setAsOf(ctx context.Context, tx interface {
	execer
	querier
}, key string, at time.Time) error {
	cur, err := s.asOf(ctx, tx, key)
	if err != nil {
		return err
	}
	if !cur.Before(at) {
		return nil
	}
	v := binary.BigEndian.AppendUint64(nil, uint64(at.UnixNano()))
	return setMeta(ctx, tx, key, s.keys.seal(v, []byte("meta\x00"+key)))
}

func (s *Store) asOf(ctx context.Context, q querier, key string) (time.Time, error) {
	v, err := getMeta(ctx, q, key)
	if err != nil || v == nil {
		return time.Time{}, err
	}
	plain, err := s.keys.open(v, []byte("meta\x00"+key))
	if err != nil || len(plain) != 8 {
		return time.Time{}, tampered("meta", key, "seal does not match (edited outside the kiosk)")
	}
	return fromUnixNano(int64(binary.BigEndian.Uint64(plain))), nil
}

// DataAges implements kiosk.Freshness: when the residents, keys and revocations were last
// brought up to date, and when the store was set up (its first audit entry).
func (s *Store) DataAges(ctx context.Context) (kiosk.DataAges, error) {
	var a kiosk.DataAges
	var err error
	for _, f := range []struct {
		key string
		to  *time.Time
	}{{metaResidentsAsOf, &a.Residents}, {metaKeysAsOf, &a.Keys}, {metaRevocationsAsOf, &a.Revocations}} {
		if *f.to, err = s.asOf(ctx, s.db, f.key); err != nil {
			return kiosk.DataAges{}, fmt.Errorf("data ages: %w", err)
		}
	}
	var at int64
	err = s.db.QueryRowContext(ctx, "SELECT at FROM audit ORDER BY seq LIMIT 1").Scan(&at)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return kiosk.DataAges{}, fmt.Errorf("data ages: set-up time: %w", classify(err))
	}
	a.SetUp = fromUnixNano(at)
	return a, nil
}
