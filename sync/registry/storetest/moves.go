package storetest

import (
	"context"
	"testing"

	"github.com/ikd-field/ikd/sync/registry"
)

// A resident who moves A→B→C is a change for every area it left, not only the last one: a
// kiosk in A that was offline through both moves still hears that the resident left.
func testMovesKeepHistory(t *testing.T, s registry.Store) {
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		return tx.PutResidents(ctx, []registry.ResidentRow{{NIK: "n1", Kecamatan: "A", Data: []byte("in A")}})
	})
	before := changes(t, s, "A", 0, 100).Last
	for _, area := range []string{"B", "C"} {
		in(t, s, func(ctx context.Context, tx registry.Tx) error {
			return tx.PutResidents(ctx, []registry.ResidentRow{{NIK: "n1", Kecamatan: area, Data: []byte("in " + area)}})
		})
	}
	for _, area := range []string{"A", "B", "C"} {
		ch := changes(t, s, area, before, 100)
		if len(ch.Residents) != 1 || ch.Residents[0].Kecamatan != "C" {
			t.Errorf("area %s after A→B→C: %+v, want n1 now in C", area, ch.Residents)
		}
	}
	eq(t, "area D", len(changes(t, s, "D", 0, 100).Residents), 0)
	// Moving back to A lists n1 once for A.
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		return tx.PutResidents(ctx, []registry.ResidentRow{{NIK: "n1", Kecamatan: "A", Data: []byte("back")}})
	})
	eq(t, "back in A", len(changes(t, s, "A", 0, 100).Residents), 1)
}

// SetRevocations gives the resident a new change number, so its areas hear of it, and a later
// PutResidents (a re-import of the population data) keeps the revocations.
func testRevocations(t *testing.T, s registry.Store) {
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		return tx.PutResidents(ctx, []registry.ResidentRow{{NIK: "n1", Kecamatan: "A", Data: []byte("one")}})
	})
	last := changes(t, s, "A", 0, 100).Last
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		isErr(t, "unknown resident", tx.SetRevocations(ctx, "n-x", []byte("x")), registry.ErrNotFound)
		return tx.SetRevocations(ctx, "n1", []byte("revoked"))
	})
	ch := changes(t, s, "A", last, 100)
	if len(ch.Residents) != 1 || string(ch.Residents[0].Revocations) != "revoked" {
		t.Fatalf("changes after SetRevocations: %+v", ch.Residents)
	}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		if err := tx.PutResidents(ctx, []registry.ResidentRow{{NIK: "n1", Kecamatan: "A", Data: []byte("re-imported")}}); err != nil {
			return err
		}
		r, err := tx.Resident(ctx, "n1")
		if err != nil {
			return err
		}
		eq(t, "revocations kept", string(r.Revocations), "revoked")
		eq(t, "data replaced", string(r.Data), "re-imported")
		return tx.SetRevocations(ctx, "n1", nil)
	})
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		r, err := tx.Resident(ctx, "n1")
		if err != nil {
			return err
		}
		if r.Revocations != nil {
			t.Errorf("cleared revocations read as %q", r.Revocations)
		}
		return nil
	})
}
