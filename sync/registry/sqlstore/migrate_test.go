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

// Migration 6 back-fills the region key from clear NIKs (the mail from its registration) and
// leaves it empty where the NIK column is not a NIK (a sealed store's blind index); lookups
// still find such a row, and rewriting it fills its region.
func TestMigrationRegionBackfill(t *testing.T) {
	const nik, blind = "3201234501900001", "b1ind"
	path := filepath.Join(t.TempDir(), "registry.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range schema(dbSQLite)[:5] {
		if _, err := db.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		fmt.Sprintf("PRAGMA application_id = %d", applicationID), "PRAGMA user_version = 5",
		"UPDATE change_counter SET n = 2",
		`INSERT INTO registrations (id, nik, email, phone, created_at, status, revoked_at, activation_record,
			approved_at, code_expires, code_tries, confirmed_at) VALUES
			('g1', '` + nik + `', 'e', 'p', 1, 'approved', 0, 'r1', 1, 0, 0, 0),
			('g2', '` + blind + `', 'e', 'p', 1, 'approved', 0, 'r2', 1, 0, 0, 0)`,
		`INSERT INTO records (id, kiosk_id, kind, registration_id, nik, at, received_at, status, code, winner)
			VALUES ('r1', 'k', 'activation', 'g1', '` + nik + `', 1, 1, 1, '', ''),
			('c1', 'k', 'audit_checkpoint', '', '', 1, 1, 1, '', '')`,
		"INSERT INTO tombstones (nik, at, record_id) VALUES ('" + nik + "', 1, 'r0'), ('" + blind + "', 1, 'r9')",
		"INSERT INTO residents (nik, kecamatan, prev_kecamatan, removed, data, seq) VALUES ('" + nik + "', 'A', '', 0, x'01', 1), ('" + blind + "', 'A', '', 0, x'01', 2)",
		`INSERT INTO mails (id, to_addr, code, registration_id, expires_at, attempts, created_at, next_attempt)
			VALUES ('m1', 'a', 'c', 'g1', 9, 0, 1, 0), ('m2', 'a', 'c', 'g2', 9, 0, 1, 0)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s := openAt(t, OpenSQLite, path)
	ctx := t.Context()
	want := map[string]string{
		"SELECT region FROM registrations WHERE id = 'g1'":       "320123",
		"SELECT region FROM registrations WHERE id = 'g2'":       "",
		"SELECT region FROM records WHERE id = 'r1'":             "320123",
		"SELECT region FROM records WHERE id = 'c1'":             "",
		"SELECT region FROM tombstones WHERE record_id = 'r0'":   "320123",
		"SELECT region FROM residents WHERE nik = '" + nik + "'": "320123",
		"SELECT region FROM mails WHERE id = 'm1'":               "320123",
		"SELECT region FROM mails WHERE id = 'm2'":               "",
	}
	for q, w := range want {
		var got string
		if err := s.d.reader().queryRow(ctx, q).Scan(&got); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got != w {
			t.Errorf("%s: %q, want %q", q, got, w)
		}
	}

	// A sealed store asks for the blind-indexed rows with their region: the rows with '' answer.
	regional := registry.RegionalNIK("320123", blind)
	if err := s.InTx(ctx, func(ctx context.Context, tx registry.Tx) error {
		if rs, err := tx.RegistrationsByNIK(ctx, regional); err != nil || len(rs) != 1 {
			return fmt.Errorf("registrations by nik: %v, %v", rs, err)
		}
		if _, err := tx.LatestTombstone(ctx, regional); err != nil {
			return fmt.Errorf("latest tombstone: %w", err)
		}
		r, err := tx.Resident(ctx, regional)
		if err != nil {
			return fmt.Errorf("resident: %w", err)
		}
		if r.NIK != blind {
			return fmt.Errorf("resident nik %q, want the column's %q", r.NIK, blind)
		}
		reg, err := tx.Registration(ctx, "g2")
		if err != nil {
			return err
		}
		reg.NIK = regional
		return tx.UpdateRegistration(ctx, reg)
	}); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := s.d.reader().queryRow(ctx, "SELECT region FROM registrations WHERE id = 'g2'").Scan(&got); err != nil || got != "320123" {
		t.Errorf("rewritten registration: region %q (%v), want 320123", got, err)
	}
}
