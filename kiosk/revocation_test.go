package kiosk_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

func TestRevocationsRefuses(t *testing.T) {
	lost := testNow.Add(-time.Hour)
	rv := kiosk.Revocations{DeactivatedAt: lost, Registrations: []kiosk.RevokedRegistration{
		{ID: "reg-revoked", At: testNow.Add(-48 * time.Hour)},
		{ID: "reg-ended", At: lost, Deactivated: true},
	}}
	cases := []struct {
		name     string
		rv       kiosk.Revocations
		reg      string
		issuedAt time.Time
		want     error
	}{
		{"nothing revoked", kiosk.Revocations{}, "reg-1", testNow, nil},
		{"revoked at the registry", rv, "reg-revoked", testNow, kiosk.ErrRegistrationRevoked},
		{"ended by the deactivation", rv, "reg-ended", testNow, kiosk.ErrRegistrationDeactivated},
		{"QR issued before the loss", rv, "reg-unknown", lost.Add(-time.Minute), kiosk.ErrRegistrationDeactivated},
		{"QR issued at the loss", rv, "reg-unknown", lost, kiosk.ErrRegistrationDeactivated},
		{"new phone after the loss", rv, "reg-new", lost.Add(time.Minute), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.rv.Refuses(c.reg, c.issuedAt)
			if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
				t.Errorf("Refuses = %v, want %v", err, c.want)
			}
		})
	}
}

// A QR the registry ended is refused at scan, with nothing written and the flow still idle;
// one for the new phone goes on and the review can show when the NIK was reported lost.
func TestScanRefusesRevokedQR(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		rv   kiosk.Revocations
		want error
	}{
		{"revoked", kiosk.Revocations{Registrations: []kiosk.RevokedRegistration{{ID: "reg-1", At: testNow.Add(-time.Hour)}}}, kiosk.ErrRegistrationRevoked},
		{"reported lost after the QR", kiosk.Revocations{DeactivatedAt: testNow}, kiosk.ErrRegistrationDeactivated},
		{"reported lost before the QR", kiosk.Revocations{DeactivatedAt: testNow.Add(-24 * time.Hour)}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness()
			h.resident.Revocations = c.rv
			f := kiosk.NewActivation(h.deps(), officer)
			err := f.ScanToken(ctx, testToken)
			if c.want != nil {
				if !errors.Is(err, c.want) {
					t.Fatalf("scan: %v, want %v", err, c.want)
				}
				if f.State() != kiosk.StateIdle || len(h.outbox.Events) != 0 {
					t.Errorf("state %s, %d events", f.State(), len(h.outbox.Events))
				}
				var ke *kiosk.Error
				if !errors.As(err, &ke) || ke.Msg.ID == "" || ke.Msg.EN == "" {
					t.Errorf("not an officer-facing error: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := f.FindResident(ctx); err != nil {
				t.Fatal(err)
			}
			if got := f.Resident().Revocations.DeactivatedAt; !got.Equal(c.rv.DeactivatedAt) {
				t.Errorf("review's lost time %v, want %v", got, c.rv.DeactivatedAt)
			}
		})
	}
}

// A revocation a pull brings between scan and lookup is still caught.
func TestFindResidentRefusesRevocationAfterScan(t *testing.T) {
	ctx := context.Background()
	h := newHarness()
	f := kiosk.NewActivation(h.deps(), officer)
	if err := f.ScanToken(ctx, testToken); err != nil {
		t.Fatal(err)
	}
	h.resident.Revocations = kiosk.Revocations{Registrations: []kiosk.RevokedRegistration{{ID: "reg-1", At: testNow}}}
	if err := f.FindResident(ctx); !errors.Is(err, kiosk.ErrRegistrationRevoked) {
		t.Fatalf("find: %v", err)
	}
	if f.State() != kiosk.StateTokenScanned {
		t.Errorf("state %s", f.State())
	}
}
