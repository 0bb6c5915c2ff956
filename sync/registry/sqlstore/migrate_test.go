package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/ikd-field/ikd/sync/registry"
)

// Migration 5 carries the area a resident left before it (prev_kecamatan) into the history
// of areas left, so a kiosk of that area still hears of the resident after a second move.
func TestMigrationKeepsAreaLeft(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range schema(dbSQLite)[:4] {
		if _, err := db.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		fmt.Sprintf("PRAGMA application_id = %d", applicationID), "PRAGMA user_version = 4",
		"UPDATE change_counter SET n = 1",
		"INSERT INTO residents (nik, kecamatan, prev_kecamatan, removed, data, seq) VALUES ('n1', 'B', 'A', 0, x'01', 1)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s := openAt(t, OpenSQLite, path)
	if err := s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error {
		return tx.PutResidents(ctx, []registry.ResidentRow{{NIK: "n1", Kecamatan: "C", Data: []byte{2}}})
	}); err != nil {
		t.Fatal(err)
	}
	for _, area := range []string{"A", "B", "C"} {
		var ch registry.Changes
		if err := s.InReadTx(t.Context(), func(ctx context.Context, tx registry.ReadTx) error {
			var err error
			ch, err = tx.Changes(ctx, area, 1, 10)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if len(ch.Residents) != 1 || ch.Residents[0].Kecamatan != "C" {
			t.Errorf("area %s: %+v, want n1 now in C", area, ch.Residents)
		}
	}
}
