package registry

import (
	"context"
	"time"

	ikdsync "github.com/ikd-field/ikd/sync"
)

// DefaultDedupWindow is how long the registry remembers a record id (and its answer).
const DefaultDedupWindow = 90 * 24 * time.Hour

// Janitor forgets request nonces once no request carrying them could pass the clock check,
// and record ids older than keep, every interval until ctx is done. Forgetting a record id
// is safe for activations (the registration keeps its winner) and deactivations (the
// tombstone stays); only a resend after keep is answered as new.
func (s *Server) Janitor(ctx context.Context, interval, keep time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.purge(ctx, keep)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) purge(ctx context.Context, keep time.Duration) {
	now := s.Now()
	var nonces, records int64
	err := s.Store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		if nonces, err = tx.PurgeNonces(ctx, now.Add(-2*ikdsync.MaxSkew)); err != nil {
			return err
		}
		records, err = tx.PurgeRecords(ctx, now.Add(-keep))
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			s.Log.Warn("purge", "err", err)
		}
		return
	}
	if nonces+records > 0 {
		s.Log.Info("purged", "nonces", nonces, "records", records)
	}
}
