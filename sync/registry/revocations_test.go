package registry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
)

// Revocations reach the kiosks of the resident's area with the next pull: a lost phone (the
// NIK's deactivation, and the registration it ended) and a registration revoked at the
// registry; a lifted deactivation takes them back.
func TestRevocationsReachKiosk(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(*testing.T) registry.Store) {
		e := newEnv(t, open(t))
		ctx := context.Background()
		e.provision(nikSiti, testArea)
		e.provision(nikBudi, testArea)
		regSiti := e.register(nikSiti, "siti@example.id")
		regBudi := e.register(nikBudi, "budi@example.id")
		sitiQR := e.now() // Siti's QR, shown before her phone was lost
		k := e.enroll(testArea)
		cursor := pullAll(t, k, "", 100).cursor

		e.advance(time.Hour)
		lost := e.now().Truncate(time.Millisecond)
		_, deact := k.deactivation(nikSiti, lost)
		wantAnswer(t, "deactivation", k.push(deact)[0], ikdsync.StatusAccepted, "")
		if err := registry.RevokeRegistration(ctx, e.st, regBudi, e.now()); err != nil {
			t.Fatal(err)
		}
		next := pullAll(t, k, cursor, 100)
		// provision stores bare residents; give them what a kiosk's decoder checks.
		for i := range next.residents {
			rc := &next.residents[i]
			rc.BirthDate, rc.Status, rc.Sex = "1990-01-01", string(kiosk.ResidentActive), string(kiosk.Male)
			if rc.NIK == nikSiti {
				rc.Sex = string(kiosk.Female)
			}
		}
		d, err := ikdsync.DecodeDeltaPage(ikdsync.DeltaPage{Residents: next.residents, Cursor: next.cursor})
		if err != nil {
			t.Fatal(err)
		}
		got := map[kiosk.NIK]kiosk.Revocations{}
		for _, r := range d.Residents {
			got[r.NIK] = r.Revocations
		}
		siti, budi := got[nikSiti], got[nikBudi]
		if !siti.DeactivatedAt.Equal(lost) || len(siti.Registrations) != 1 || siti.Registrations[0].ID != regSiti || !siti.Registrations[0].Deactivated {
			t.Errorf("Siti's revocations %+v, want lost at %v ending %s", siti, lost, regSiti)
		}
		if !errors.Is(siti.Refuses(regSiti, sitiQR), kiosk.ErrRegistrationDeactivated) {
			t.Errorf("Siti's old QR not refused: %+v", siti)
		}
		if len(budi.Registrations) != 1 || budi.Registrations[0].ID != regBudi || budi.Registrations[0].Deactivated || !budi.DeactivatedAt.IsZero() {
			t.Errorf("Budi's revocations %+v, want %s revoked", budi, regBudi)
		}
		if !errors.Is(budi.Refuses(regBudi, e.now()), kiosk.ErrRegistrationRevoked) {
			t.Errorf("Budi's revoked QR not refused")
		}

		// A supervisor lifts the wrongful deactivation: the kiosk hears that too.
		if err := registry.PutOfficer(ctx, e.st, registry.OfficerRow{ID: "199001012015011009", Name: "Rina", Role: kiosk.RoleSupervisor}); err != nil {
			t.Fatal(err)
		}
		if _, err := registry.LiftTombstone(ctx, e.st, nikSiti, "199001012015011009", "salah lapor", e.now()); err != nil {
			t.Fatal(err)
		}
		last := pullAll(t, k, next.cursor, 100)
		if len(last.residents) != 1 || last.residents[0].NIK != nikSiti || last.residents[0].Revocations != nil {
			t.Errorf("after the lift: %+v", last.residents)
		}
	})
}
