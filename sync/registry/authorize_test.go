package registry_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
)

// TestAuthorizationAtIngest: a valid device signature is not enough. Each case pushes one
// activation or deactivation and expects the registry's answer; a refused activation queues no
// mail and leaves the registration pending.
func TestAuthorizationAtIngest(t *testing.T) {
	const (
		nikBojong   = "3201020101900003" // a resident of Bojong Gede
		officerBoj  = "198001012005011009"
		officerOff  = "198001012005011010" // disabled
		officerAll  = "198001012005011011" // every area, supervisor
		officerMany = "198001012005011012" // Cibinong and Bojong Gede
	)
	cases := []struct {
		name   string
		kiosk  string // the kiosk's enrolled area(s)
		kind   kiosk.RecordKind
		nik    string
		prov   bool // provision nik as a resident of testArea first
		office string
		at     time.Duration // from the registry's now
		code   string        // "" = accepted
	}{
		{"same area", testArea, kiosk.KindActivation, nikSiti, true, testOfficer, -time.Minute, ""},
		{"resident of another kecamatan", "Bojong Gede", kiosk.KindActivation, nikSiti, true, officerBoj, -time.Minute, ikdsync.ErrAreaMismatch.Code},
		{"kabupaten office of both areas", testArea + ", Bojong Gede", kiosk.KindActivation, nikSiti, true, officerMany, -time.Minute, ""},
		{"officer the registry never heard of", testArea, kiosk.KindActivation, nikSiti, true, "199912312099121999", -time.Minute, ikdsync.ErrUnknownOfficer.Code},
		{"disabled officer", testArea, kiosk.KindActivation, nikSiti, true, officerOff, -time.Minute, ikdsync.ErrOfficerDisabled.Code},
		{"officer of another area", testArea, kiosk.KindActivation, nikSiti, true, officerBoj, -time.Minute, ikdsync.ErrOfficerArea.Code},
		{"officer of every area", testArea, kiosk.KindActivation, nikSiti, true, officerAll, -time.Minute, ""},
		{"NIK the registry does not hold", testArea, kiosk.KindActivation, nikBudi, false, testOfficer, -time.Minute, ikdsync.ErrUnknownResident.Code},
		{"activation dated far ahead", testArea, kiosk.KindActivation, nikSiti, true, testOfficer, 2 * time.Hour, ikdsync.ErrRecordFutureDated.Code},
		{"deactivation in area", testArea, kiosk.KindDeactivation, nikSiti, true, testOfficer, -time.Minute, ""},
		{"deactivation dated 2099", testArea, kiosk.KindDeactivation, nikSiti, true, testOfficer, 73 * 365 * 24 * time.Hour, ikdsync.ErrRecordFutureDated.Code},
		{"deactivation within the clock skew", testArea, kiosk.KindDeactivation, nikSiti, true, testOfficer, ikdsync.MaxSkew - time.Second, ""},
		{"deactivation before the kiosk was enrolled", testArea, kiosk.KindDeactivation, nikSiti, true, testOfficer, -48 * time.Hour, ikdsync.ErrRecordBeforeEnrolment.Code},
		{"deactivation of a NIK the registry does not hold", testArea, kiosk.KindDeactivation, nikBudi, false, testOfficer, -time.Minute, ikdsync.ErrUnknownResident.Code},
		{"deactivation of another kecamatan's resident", testArea, kiosk.KindDeactivation, nikBojong, false, testOfficer, -time.Minute, ikdsync.ErrAreaMismatch.Code},
	}
	eachStore(t, func(t *testing.T, open func(*testing.T) registry.Store) {
		// One registry for every case (a fresh PostgreSQL database each would cost more than
		// the cases): each case enrolls its own kiosk and uses a NIK of its own.
		e := newEnv(t, open(t))
		ctx := context.Background()
		e.provision(nikBojong, "Bojong Gede")
		for _, o := range []registry.OfficerRow{
			{ID: officerBoj, Name: "Bojong", Area: "Bojong Gede", Role: kiosk.RoleOfficer},
			{ID: officerOff, Name: "Keluar", Area: testArea, Role: kiosk.RoleOfficer, Disabled: true},
			{ID: officerAll, Name: "Pusat", Role: kiosk.RoleSupervisor},
			{ID: officerMany, Name: "Kabupaten", Area: testArea + "," + "Bojong Gede", Role: kiosk.RoleOfficer},
		} {
			if err := registry.PutOfficer(ctx, e.st, o); err != nil {
				t.Fatal(err)
			}
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				nik := c.nik
				switch nik {
				case nikSiti:
					nik = fmt.Sprintf("320101410190%04d", 100+i)
				case nikBudi:
					nik = fmt.Sprintf("320101010190%04d", 100+i)
				}
				k := e.enroll(c.kiosk)
				e.advance(24 * time.Hour)
				if c.prov {
					e.provision(nik, testArea)
				}
				reg := e.register(nik, "warga@example.id")
				var env []byte
				if c.kind == kiosk.KindActivation {
					_, env = k.activationBy(c.office, reg, nik, e.now().Add(c.at))
				} else {
					_, env = k.deactivationBy(c.office, nik, e.now().Add(c.at))
				}
				status := ikdsync.StatusAccepted
				if c.code != "" {
					status = ikdsync.StatusRejected
				}
				wantAnswer(t, c.name, k.push(env)[0], status, c.code)
				wantAnswer(t, c.name+" (resent)", k.push(env)[0], map[bool]int{true: ikdsync.StatusDuplicate, false: status}[c.code == ""], c.code)
				if _, mailed := e.mails()[reg]; c.kind == kiosk.KindActivation && mailed != (c.code == "") {
					t.Fatalf("mailed %v for answer %q", mailed, c.code)
				}
				if c.code != "" && c.kind == kiosk.KindDeactivation && c.prov {
					// A refused deactivation leaves no tombstone: a later activation goes through.
					_, act := k.activationBy(testOfficer, reg, nik, e.now())
					wantAnswer(t, "activation after the refused deactivation", k.push(act)[0], ikdsync.StatusAccepted, "")
				}
			})
		}
	})
}

// TestMovedResidentIsServedWhereTheyLiveNow: after a move the new area's kiosk may act for the
// resident and the old one may not.
func TestMovedResidentIsServedWhereTheyLiveNow(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(*testing.T) registry.Store) {
		e := newEnv(t, open(t))
		ctx := context.Background()
		old, now := e.enroll(testArea), e.enroll("Sukaraja")
		if err := registry.PutOfficer(ctx, e.st, registry.OfficerRow{ID: "198001012005011020", Name: "Sukaraja", Area: "Sukaraja", Role: kiosk.RoleOfficer}); err != nil {
			t.Fatal(err)
		}
		e.provision(nikSiti, testArea)
		if err := registry.PutResidents(ctx, e.st, []kiosk.Resident{{NIK: nikSiti, Name: "Siti", Kecamatan: "Sukaraja"}}); err != nil {
			t.Fatal(err)
		}
		reg := e.register(nikSiti, "siti@example.id")
		_, stale := old.activationBy(testOfficer, reg, nikSiti, e.now())
		wantAnswer(t, "old area", old.push(stale)[0], ikdsync.StatusRejected, ikdsync.ErrAreaMismatch.Code)
		_, fresh := now.activationBy("198001012005011020", reg, nikSiti, e.now())
		wantAnswer(t, "new area", now.push(fresh)[0], ikdsync.StatusAccepted, "")
	})
}

// TestRevokingTheKioskDoesNotUndoAndLiftDoes: a wrongful deactivation's tombstone outlives the
// kiosk's revocation; a supervisor's lift ends it, is listed with who and why, and a later
// activation of the NIK is accepted.
func TestTombstoneLift(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(*testing.T) registry.Store) {
		e := newEnv(t, open(t))
		ctx := context.Background()
		k := e.enroll(testArea)
		reg := e.register(nikSiti, "siti@example.id")
		_, d := k.deactivation(nikSiti, e.now())
		wantAnswer(t, "deactivation", k.push(d)[0], ikdsync.StatusAccepted, "")
		if err := registry.RevokeDevice(ctx, e.st, k.id, e.now()); err != nil {
			t.Fatal(err)
		}
		k2 := e.enroll(testArea)
		e.advance(time.Minute)
		_, act := k2.activation(reg, nikSiti, e.now())
		wantAnswer(t, "activation under the tombstone", k2.push(act)[0], ikdsync.StatusRejected, ikdsync.ErrAccountDeactivated.Code)

		const sup = "198001012005011030"
		if _, err := registry.LiftTombstone(ctx, e.st, nikSiti, sup, "salah input", e.now()); err == nil {
			t.Fatal("lift by an officer the registry does not know was allowed")
		}
		if err := registry.PutOfficer(ctx, e.st, registry.OfficerRow{ID: sup, Name: "Supervisor", Role: kiosk.RoleSupervisor}); err != nil {
			t.Fatal(err)
		}
		if _, err := registry.LiftTombstone(ctx, e.st, nikSiti, testOfficer, "salah input", e.now()); err == nil {
			t.Fatal("lift by a non-supervisor was allowed")
		}
		if _, err := registry.LiftTombstone(ctx, e.st, nikSiti, sup, " ", e.now()); err == nil {
			t.Fatal("lift without a reason was allowed")
		}
		n, err := registry.LiftTombstone(ctx, e.st, nikSiti, sup, "salah input", e.now())
		if err != nil || n != 1 {
			t.Fatalf("lift: %d %v", n, err)
		}
		ts, err := registry.ListTombstones(ctx, e.st, nikSiti)
		if err != nil || len(ts) != 1 || ts[0].LiftedBy != sup || ts[0].LiftReason != "salah input" || ts[0].LiftedAt.IsZero() {
			t.Fatalf("tombstones %+v %v", ts, err)
		}
		// The registration the wrongful deactivation ended is pending again.
		reg2 := e.register(nikSiti, "siti@example.id")
		_, act2 := k2.activation(reg, nikSiti, e.now())
		wantAnswer(t, "activation after the lift", k2.push(act2)[0], ikdsync.StatusAccepted, "")
		_, act3 := k2.activation(reg2, nikSiti, e.now())
		wantAnswer(t, "new registration after the lift", k2.push(act3)[0], ikdsync.StatusAccepted, "")
	})
}

// TestChangesOfSeveralAreas: a kabupaten office's kiosk pulls the residents and officers of
// each of its kecamatan, in small pages, none skipped and none twice, and hears of a resident
// who moved out of them.
func TestChangesOfSeveralAreas(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(*testing.T) registry.Store) {
		e := newEnv(t, open(t))
		ctx := context.Background()
		var rs []kiosk.Resident
		for i, area := range []string{"A", "B", "C", "A", "B", "C", "A", "B", "C", "B", "B"} {
			rs = append(rs, kiosk.Resident{NIK: kiosk.NIK(fmt.Sprintf("32010101019000%02d", i+10)), Name: "Warga", Kecamatan: area})
			// Interleave officers so pages mix both kinds.
			if err := registry.PutOfficer(ctx, e.st, registry.OfficerRow{ID: fmt.Sprint("o-", i), Name: "P", Area: area, Role: kiosk.RoleOfficer}); err != nil {
				t.Fatal(err)
			}
			if err := registry.PutResidents(ctx, e.st, rs[i:]); err != nil {
				t.Fatal(err)
			}
		}
		k := e.enroll("A, B")
		got := pullAll(t, k, "", 3)
		seen := map[string]int{}
		for _, r := range got.residents {
			seen[r.NIK]++
		}
		for _, r := range rs {
			want := 0
			if r.Kecamatan != "C" {
				want = 1
			}
			if seen[string(r.NIK)] != want {
				t.Fatalf("resident of %s pulled %d times, want %d (pulled %v)", r.Kecamatan, seen[string(r.NIK)], want, seen)
			}
		}
		if len(got.officers) != 8 || len(got.keys) != 1 || got.pages < 6 { // 17 changes, at most 3 a page
			t.Fatalf("%d officers, %d keys in %d pages", len(got.officers), len(got.keys), got.pages)
		}
		moved := rs[0]
		moved.Kecamatan = "C"
		if err := registry.PutResidents(ctx, e.st, []kiosk.Resident{moved}); err != nil {
			t.Fatal(err)
		}
		next := pullAll(t, k, got.cursor, 3)
		if len(next.residents) != 1 || !next.residents[0].Removed || next.residents[0].NIK != string(moved.NIK) {
			t.Fatalf("after the move: %+v", next.residents)
		}
	})
}
