package storetest

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/mail"
)

// PurgeMails deletes mails sent or given up before the cutoff, never one still waiting.
func testPurgeMails(t *testing.T, s registry.Store) {
	ctx := t.Context()
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, id := range []string{"sent-old", "sent-new", "failed-old", "waiting-old"} {
			if err := tx.EnqueueMail(ctx, mail.Mail{ID: id, To: id + "@example.id", Code: "123456", RegistrationID: "r-" + id,
				ExpiresAt: at(24 * time.Hour), CreatedAt: at(0)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err := s.Sent(ctx, "sent-old", at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Sent(ctx, "sent-new", at(10*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Failed(ctx, "failed-old", at(time.Hour), at(2*time.Hour), "550 no such user", true); err != nil {
		t.Fatal(err)
	}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		n, err := tx.PurgeMails(ctx, at(7*24*time.Hour))
		eq(t, "mails purged", n, int64(2))
		return err
	})
	n, _, err := s.MailBacklog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "waiting mails kept", n, int64(1))
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		n, err := tx.PurgeMails(ctx, at(30*24*time.Hour))
		eq(t, "the newer sent mail later", n, int64(1))
		return err
	})
}

// PurgeRegistrations deletes registrations that ended before the cutoff and keeps the rest,
// and the tombstones.
func testPurgeRegistrations(t *testing.T, s registry.Store) {
	day := 24 * time.Hour
	regs := []registry.Registration{
		{ID: "activated-old", Status: registry.RegActivated, ConfirmedAt: at(day)},
		{ID: "activated-new", Status: registry.RegActivated, ConfirmedAt: at(100 * day)},
		{ID: "revoked-old", Status: registry.RegRevoked, RevokedAt: at(day)},
		{ID: "deactivated-old", Status: registry.RegDeactivated, RevokedAt: at(day)},
		{ID: "pending-old", Status: registry.RegPending},
		{ID: "approved-expired", Status: registry.RegApproved, CodeExpires: at(2 * day)},
		{ID: "approved-live", Status: registry.RegApproved, CodeExpires: at(100 * day)},
	}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, r := range regs {
			r.NIK, r.Email, r.Phone, r.CreatedAt = "n1", r.ID+"@example.id", "0812", at(0)
			if err := tx.InsertRegistration(ctx, r); err != nil {
				return err
			}
		}
		return tx.InsertTombstone(ctx, registry.Tombstone{NIK: "n1", At: at(day), RecordID: "d1"})
	})
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		n, err := tx.PurgeRegistrations(ctx, at(50*day))
		if err != nil {
			return err
		}
		eq(t, "registrations purged", n, int64(5))
		left, err := tx.RegistrationsByNIK(ctx, "n1")
		if err != nil {
			return err
		}
		var ids []string
		for _, r := range left {
			ids = append(ids, r.ID)
		}
		sort.Strings(ids)
		eq(t, "registrations kept", ids, []string{"activated-new", "approved-live"})
		_, err = tx.LatestTombstone(ctx, "n1")
		return err
	})
}
