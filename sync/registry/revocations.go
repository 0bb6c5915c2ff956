package registry

import (
	"context"
	"errors"
	"fmt"

	ikdsync "github.com/ikd-field/ikd/sync"
)

// refreshRevocations rewrites what the kiosks of nik's area know of its revocations: the
// deactivation in force (the latest tombstone not lifted) and every registration that was
// revoked or ended by a deactivation. It runs in the transaction that changed them, so the
// resident's new change number commits with the change; a NIK the registry holds no
// resident for has no kiosk to tell.
func refreshRevocations(ctx context.Context, tx Tx, nik string) error {
	var rv ikdsync.Revocations
	tomb, err := tx.LatestTombstone(ctx, nik)
	switch {
	case err == nil:
		rv.DeactivatedAt = ikdsync.TimeMillis(tomb.At)
	case !errors.Is(err, ErrNotFound):
		return fmt.Errorf("revocations: %w", err)
	}
	regs, err := tx.RegistrationsByNIK(ctx, nik)
	if err != nil {
		return fmt.Errorf("revocations: %w", err)
	}
	for _, r := range regs {
		if (r.Status == RegRevoked || r.Status == RegDeactivated) && len(rv.Registrations) < ikdsync.MaxRevoked {
			rv.Registrations = append(rv.Registrations, ikdsync.RevokedRegistration{
				ID: r.ID, At: ikdsync.TimeMillis(r.RevokedAt), Deactivated: r.Status == RegDeactivated})
		}
	}
	var data []byte
	if rv.DeactivatedAt != 0 || len(rv.Registrations) > 0 {
		if data, err = ikdsync.Marshal(rv); err != nil {
			return fmt.Errorf("revocations: %w", err)
		}
	}
	if err := tx.SetRevocations(ctx, nik, data); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("revocations: %w", err)
	}
	return nil
}
