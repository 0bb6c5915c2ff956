package store

import (
	"context"
	"crypto/ed25519"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

// deltaStore is a store with two residents, two officers (one locked out by wrong PINs) and
// a registry key, as a kiosk has them before a pull.
func deltaStore(t *testing.T) (*Store, []kiosk.Resident, kiosk.RegistryKey) {
	t.Helper()
	ctx := context.Background()
	s, _ := mustCreate(t, testOptions())
	rs := []kiosk.Resident{snapshot.Synthetic(11, 0), snapshot.Synthetic(11, 1)}
	if _, err := s.ApplyResidents(ctx, rs, nil, "c1"); err != nil {
		t.Fatal(err)
	}
	for _, o := range []kiosk.Officer{{ID: "off1", Name: "Siti", Role: kiosk.RoleOfficer}, {ID: "off2", Name: "Budi", Role: kiosk.RoleOfficer}} {
		if err := s.AddOfficer(ctx, "", o, "482916"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Login(ctx, "off2", "000111"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong PIN: %v", err)
	}
	pub, _, _ := ed25519.GenerateKey(nil)
	k := kiosk.RegistryKey{KeyID: "reg-1", PublicKey: pub, NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.AddRegistryKey(ctx, "", k); err != nil {
		t.Fatal(err)
	}
	return s, rs, k
}

func TestApplyDelta(t *testing.T) {
	ctx := context.Background()
	s, rs, k := deltaStore(t)
	changed := rs[0]
	changed.Address = "Jl. Melati 9"
	added := snapshot.Synthetic(11, 2)
	rotated := k
	rotated.NotAfter = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	pub2, _, _ := ed25519.GenerateKey(nil)
	newKey := kiosk.RegistryKey{KeyID: "reg-2", PublicKey: pub2, NotBefore: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	n0, _ := s.VerifyAudit(ctx)

	c, err := s.ApplyDelta(ctx, kiosk.Delta{
		Residents: []kiosk.Resident{changed, added},
		Removed:   []kiosk.NIK{rs[1].NIK},
		Officers: []kiosk.Officer{
			{ID: "off1", Name: "Siti Rahma", Role: kiosk.RoleSupervisor},
			{ID: "off2", Name: "Budi", Role: kiosk.RoleOfficer, Disabled: true},
			{ID: "new9", Name: "Ani", Role: kiosk.RoleOfficer},
		},
		Keys:   []kiosk.RegistryKey{rotated, newKey},
		Cursor: "c2",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := kiosk.DeltaCounts{ResidentsAdded: 1, ResidentsUpdated: 1, ResidentsRemoved: 1,
		OfficersUpdated: 2, OfficersSkipped: 1, Keys: 2}
	if c != want {
		t.Errorf("counts = %+v, want %+v", c, want)
	}
	if got, err := s.ResidentByNIK(ctx, changed.NIK); err != nil || !reflect.DeepEqual(got, changed) {
		t.Errorf("changed resident = %+v, %v", got, err)
	}
	if _, err := s.ResidentByNIK(ctx, added.NIK); err != nil {
		t.Errorf("added resident: %v", err)
	}
	if _, err := s.ResidentByNIK(ctx, rs[1].NIK); !errors.Is(err, kiosk.ErrResidentNotFound) {
		t.Errorf("removed resident: %v", err)
	}
	if cur, _ := s.SnapshotCursor(ctx); cur != "c2" {
		t.Errorf("cursor = %q", cur)
	}
	if got, _ := s.RegistryKey(ctx, k.KeyID); !got.NotAfter.Equal(rotated.NotAfter) {
		t.Errorf("rotated key not_after = %v, want %v", got.NotAfter, rotated.NotAfter)
	}
	if _, err := s.RegistryKey(ctx, newKey.KeyID); err != nil {
		t.Errorf("new key: %v", err)
	}
	offs, err := s.Officers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantOffs := []kiosk.Officer{{ID: "off1", Name: "Siti Rahma", Role: kiosk.RoleSupervisor},
		{ID: "off2", Name: "Budi", Role: kiosk.RoleOfficer, Disabled: true}}
	if !reflect.DeepEqual(offs, wantOffs) {
		t.Errorf("officers = %+v, want %+v", offs, wantOffs)
	}
	// The PIN survived the update; off2 is disabled now.
	if o, err := s.Login(ctx, "off1", "482916"); err != nil || o.Role != kiosk.RoleSupervisor {
		t.Errorf("login off1 after update: %+v, %v", o, err)
	}
	if _, err := s.Login(ctx, "off2", "482916"); !errors.Is(err, ErrOfficerDisabled) {
		t.Errorf("login off2 after disabling: %v, want ErrOfficerDisabled", err)
	}
	// 2 officer updates, 2 key changes, 2 logins.
	if n, err := s.VerifyAudit(ctx); err != nil || n != n0+6 {
		t.Errorf("audit entries = %d (%v), want %d", n, err, n0+6)
	}
	rep, err := s.Verify(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("verify after delta: %+v, %v", rep, err)
	}

	t.Run("RepeatedPageChangesNothing", func(t *testing.T) {
		n1, _ := s.VerifyAudit(ctx)
		c, err := s.ApplyDelta(ctx, kiosk.Delta{Officers: wantOffs, Keys: []kiosk.RegistryKey{rotated, newKey}, Cursor: "c3"})
		if err != nil {
			t.Fatal(err)
		}
		if c != (kiosk.DeltaCounts{}) {
			t.Errorf("counts = %+v, want none", c)
		}
		if n, _ := s.VerifyAudit(ctx); n != n1 {
			t.Errorf("audit grew from %d to %d", n1, n)
		}
	})
}

// TestApplyDeltaInvalidChangesNothing: one bad resident, officer or key refuses the page,
// and nothing of it (keys, officers, cursor, other residents) is applied.
func TestApplyDeltaInvalidChangesNothing(t *testing.T) {
	ctx := context.Background()
	s, rs, k := deltaStore(t)
	rotated := k
	rotated.NotAfter = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	bad := snapshot.Synthetic(11, 5)
	bad.Sex = "X"
	other, _, _ := ed25519.GenerateKey(nil)
	good := kiosk.Delta{
		Residents: []kiosk.Resident{snapshot.Synthetic(11, 3)},
		Removed:   []kiosk.NIK{rs[0].NIK},
		Officers:  []kiosk.Officer{{ID: "off1", Name: "X", Role: kiosk.RoleSupervisor}},
		Keys:      []kiosk.RegistryKey{rotated},
		Cursor:    "c9",
	}
	cases := map[string]struct {
		edit func(*kiosk.Delta)
		want error
	}{
		"resident": {func(d *kiosk.Delta) { d.Residents = append(d.Residents, bad) }, ErrImportRejected},
		"officer": {func(d *kiosk.Delta) {
			d.Officers = append(d.Officers, kiosk.Officer{ID: "off2", Name: "B", Role: "boss"})
		}, ErrInvalidOfficer},
		"key": {func(d *kiosk.Delta) {
			d.Keys = append(d.Keys, kiosk.RegistryKey{KeyID: "reg-1x", PublicKey: other[:5]})
		}, ErrInvalidRegistryKey},
		"conflict": {func(d *kiosk.Delta) { d.Keys = append(d.Keys, kiosk.RegistryKey{KeyID: k.KeyID, PublicKey: other}) }, ErrKeyConflict},
	}
	n0, _ := s.VerifyAudit(ctx)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := good
			d.Residents = append([]kiosk.Resident(nil), good.Residents...)
			d.Officers = append([]kiosk.Officer(nil), good.Officers...)
			d.Keys = append([]kiosk.RegistryKey(nil), good.Keys...)
			tc.edit(&d)
			if _, err := s.ApplyDelta(ctx, d); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if cur, _ := s.SnapshotCursor(ctx); cur != "c1" {
				t.Errorf("cursor = %q, want c1", cur)
			}
			if _, err := s.ResidentByNIK(ctx, rs[0].NIK); err != nil {
				t.Errorf("removal applied: %v", err)
			}
			if _, err := s.ResidentByNIK(ctx, good.Residents[0].NIK); !errors.Is(err, kiosk.ErrResidentNotFound) {
				t.Errorf("upsert applied: %v", err)
			}
			if got, _ := s.RegistryKey(ctx, k.KeyID); !got.NotAfter.IsZero() {
				t.Errorf("key rotated to %v", got.NotAfter)
			}
			if offs, _ := s.Officers(ctx); offs[0].Role != kiosk.RoleOfficer || offs[0].Name != "Siti" {
				t.Errorf("officer changed: %+v", offs[0])
			}
			if n, _ := s.VerifyAudit(ctx); n != n0 {
				t.Errorf("audit entries %d, want %d", n, n0)
			}
		})
	}
	if rep, err := s.Verify(ctx); err != nil || !rep.OK() {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}
