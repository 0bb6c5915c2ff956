package registry

import (
	"context"
	"time"

	ikdsync "github.com/ikd-field/ikd/sync"
)

// DefaultDedupWindow is how long the registry remembers a record id (and its answer).
const DefaultDedupWindow = 90 * 24 * time.Hour

// Retention periods of the registry's personal data (UU 27/2022, Pasal 16 ayat 2: kept no
// longer than the purpose needs, deleted when the retention period ends).
const (
	// DefaultMailRetention: a mail carries an activation code (sealed) and the citizen's
	// address. Once sent (or given up) its only use is answering "I got no mail" while the
	// code could still be used or re-issued: the code lives DefaultCodeTTL, so a week is
	// ample.
	DefaultMailRetention = 7 * 24 * time.Hour
	// DefaultRegistrationRetention: a registration that ended (activated and confirmed,
	// deactivated, revoked, or never approved) is kept as long as a record about it may still
	// arrive and be deduplicated against it, the dedup window: after that no kiosk record
	// refers to it, a stale activation of it is refused as unknown, and its e-mail and phone
	// serve no purpose. A deactivation's tombstone is kept (it holds no contact data) so a
	// reported-lost account stays closed.
	DefaultRegistrationRetention = DefaultDedupWindow
)

// Retention says how long the janitor keeps mails and ended registrations; zero fields take
// the defaults.
type Retention struct {
	Mails         time.Duration
	Registrations time.Duration
}

func (r Retention) withDefaults() Retention {
	if r.Mails <= 0 {
		r.Mails = DefaultMailRetention
	}
	if r.Registrations <= 0 {
		r.Registrations = DefaultRegistrationRetention
	}
	return r
}

// Janitor forgets request nonces once no request carrying them could pass the clock check,
// record ids older than keep, and mails and ended registrations past s.Retention, every
// interval until ctx is done. Forgetting a record id
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
	ret := s.Retention.withDefaults()
	var nonces, records, mails, regs int64
	err := s.Store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		if nonces, err = tx.PurgeNonces(ctx, now.Add(-2*ikdsync.MaxSkew)); err != nil {
			return err
		}
		if records, err = tx.PurgeRecords(ctx, now.Add(-keep)); err != nil {
			return err
		}
		if mails, err = tx.PurgeMails(ctx, now.Add(-ret.Mails)); err != nil {
			return err
		}
		regs, err = tx.PurgeRegistrations(ctx, now.Add(-ret.Registrations))
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			s.Log.Warn("purge", "err", err)
		}
		return
	}
	if nonces+records+mails+regs > 0 {
		s.Log.Info("purged", "nonces", nonces, "records", records, "mails", mails, "registrations", regs)
	}
}
