package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/kiosktest"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

// Revocations travel inside the sealed resident record: stored by a delta, read back at
// lookup, and a record written before them (codec version 1) reads as having none.
func TestResidentRevocationsRoundTrip(t *testing.T) {
	r := snapshot.Synthetic(11, 0)
	r.Revocations = kiosk.Revocations{DeactivatedAt: time.UnixMilli(1_790_000_000_000).UTC(),
		Registrations: []kiosk.RevokedRegistration{
			{ID: "reg-a", At: time.UnixMilli(1_780_000_000_000).UTC()},
			{ID: "reg-b", At: time.UnixMilli(1_790_000_000_000).UTC(), Deactivated: true},
		}}
	got, err := decodeResident(encodeResident(r))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Revocations, r.Revocations) {
		t.Errorf("revocations %+v, want %+v", got.Revocations, r.Revocations)
	}
	// Version 1: the same record without the revocation fields.
	plain := r
	plain.Revocations = kiosk.Revocations{}
	v3 := encodeResident(plain)
	v1 := append([]byte{1}, v3[1:len(v3)-3]...) // drop the three zero uvarints
	old, err := decodeResident(v1)
	if err != nil {
		t.Fatalf("version 1 record: %v", err)
	}
	if old.Name != r.Name || !reflect.DeepEqual(old.Revocations, kiosk.Revocations{}) {
		t.Errorf("version 1 record read as %+v", old)
	}
	enc := encodeResident(r)
	for _, n := range []int{1, 2, 5, 9} {
		if _, err := decodeResident(enc[:len(enc)-n]); err == nil {
			t.Errorf("record cut by %d bytes decoded", n)
		}
	}
}

func TestApplyDeltaRevocationsAndAges(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	opts := testOptions()
	opts.Now = func() time.Time { return now }
	s, _ := mustCreate(t, opts)
	a, err := s.DataAges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Residents.IsZero() || !a.Keys.IsZero() || !a.Revocations.IsZero() || !a.SetUp.Equal(now) {
		t.Fatalf("new store ages %+v", a)
	}
	r := snapshot.Synthetic(11, 0)
	r.Revocations = kiosk.Revocations{DeactivatedAt: now.Add(-time.Hour)}
	// A page with more to come moves no age; the last page does.
	if _, err := s.ApplyDelta(ctx, kiosk.Delta{Residents: []kiosk.Resident{r}, Cursor: "1"}); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.DataAges(ctx); !a.Revocations.IsZero() {
		t.Fatalf("ages moved by a page with more to come: %+v", a)
	}
	asOf := now.Add(-10 * time.Minute)
	if _, err := s.ApplyDelta(ctx, kiosk.Delta{Cursor: "2", AsOf: asOf}); err != nil {
		t.Fatal(err)
	}
	a, err = s.DataAges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Residents.Equal(asOf) || !a.Keys.Equal(asOf) || !a.Revocations.Equal(asOf) {
		t.Errorf("ages %+v, want all %v", a, asOf)
	}
	// An older page (a stale stick) does not move the ages back.
	if _, err := s.ApplyDelta(ctx, kiosk.Delta{Cursor: "3", AsOf: asOf.Add(-24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.DataAges(ctx); !a.Residents.Equal(asOf) {
		t.Errorf("ages moved back to %v", a.Residents)
	}
	got, err := s.ResidentByNIK(ctx, r.NIK)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Revocations.DeactivatedAt.Equal(r.Revocations.DeactivatedAt) {
		t.Errorf("stored deactivation %v, want %v", got.Revocations.DeactivatedAt, r.Revocations.DeactivatedAt)
	}
}

// Someone who can edit the file cannot make old data look fresh: an as-of time copied from
// another key fails its seal.
func TestDataAgesSealed(t *testing.T) {
	ctx := context.Background()
	s, path := mustCreate(t, testOptions())
	if _, err := s.ApplyDelta(ctx, kiosk.Delta{Cursor: "1", AsOf: time.Now()}); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	if _, err := db.Exec(`UPDATE meta SET value = (SELECT value FROM meta WHERE key = 'keys_as_of') WHERE key = 'residents_as_of'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DataAges(ctx); !errors.Is(err, ErrTampered) {
		t.Errorf("copied as-of: %v, want %v", err, ErrTampered)
	}
}

// A revocation a pull stored reaches the counter: an activation flow over this store refuses
// the QR at scan.
func TestStoredRevocationRefusedAtScan(t *testing.T) {
	ctx := context.Background()
	s, _ := mustCreate(t, testOptions())
	r := snapshot.Synthetic(11, 0)
	r.Revocations = kiosk.Revocations{Registrations: []kiosk.RevokedRegistration{{ID: "reg-1", At: time.Now()}}}
	if _, err := s.ApplyDelta(ctx, kiosk.Delta{Residents: []kiosk.Resident{r}, Cursor: "1"}); err != nil {
		t.Fatal(err)
	}
	tokens := &kiosktest.TokenVerifier{VerifyFn: func(context.Context, string, time.Time) (kiosk.Token, error) {
		return kiosk.Token{KeyID: "k1", NIK: r.NIK, RegistrationID: "reg-1", IssuedAt: time.Now().Add(-time.Hour)}, nil
	}}
	f := kiosk.NewActivation(kiosk.Deps{Tokens: tokens, Residents: s, Outbox: s, Audit: s,
		Clock: kiosktest.FixedClock(time.Now()), Freshness: s}, kiosk.Officer{ID: "off1", Role: kiosk.RoleOfficer})
	if err := f.ScanToken(ctx, "IKD1:x"); !errors.Is(err, kiosk.ErrRegistrationRevoked) {
		t.Fatalf("scan: %v, want %v", err, kiosk.ErrRegistrationRevoked)
	}
}

// Face templates travel in the sealed record too (codec version 3); a version 2 record reads as
// having none, and a record whose template is unusable is refused rather than half read.
func TestResidentTemplatesRoundTrip(t *testing.T) {
	r := snapshot.Synthetic(12, 0)
	tp, err := kiosk.NewTemplate("arcface112:0123456789abcdef", []float32{0.5, -0.25, 0.125})
	if err != nil {
		t.Fatal(err)
	}
	r.Templates = []kiosk.Template{tp}
	enc := encodeResident(r)
	got, err := decodeResident(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Templates, r.Templates) {
		t.Errorf("templates %+v, want %+v", got.Templates, r.Templates)
	}

	plain := r
	plain.Templates = nil
	v3 := encodeResident(plain)
	v2 := append([]byte{2}, v3[1:len(v3)-1]...) // drop the zero template count
	old, err := decodeResident(v2)
	if err != nil {
		t.Fatalf("version 2 record: %v", err)
	}
	if old.Name != r.Name || old.Templates != nil {
		t.Errorf("version 2 record read as %+v", old)
	}

	bad := r
	bad.Templates = []kiosk.Template{{Engine: "e", Half: []byte{0x00, 0x7e}}} // NaN
	if _, err := decodeResident(encodeResident(bad)); !errors.Is(err, kiosk.ErrTemplate) {
		t.Errorf("a NaN template: %v", err)
	}
	for _, n := range []int{1, 2, 7} {
		if _, err := decodeResident(enc[:len(enc)-n]); err == nil {
			t.Errorf("record cut by %d bytes decoded", n)
		}
	}
}
