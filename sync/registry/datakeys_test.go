package registry_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/internal/secretfile"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/sqlstore"
)

const (
	key32a = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	key32b = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
)

func writeKeyFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "data.key")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadDataKeys(t *testing.T) {
	const head = "ikd-registry data keys v1\n"
	tests := []struct {
		name, text string
		ok         bool
	}{
		{"Valid", head + "index " + key32a + "\nkey 1 " + key32b + "\ncurrent 1\n", true},
		{"CommentsAndOldKeys", head + "# c\n\nindex " + key32a + "\nkey 1 " + key32a + "\nkey 7 " + key32b + "\ncurrent 7\n", true},
		{"Empty", "", false},
		{"NoHeader", "index " + key32a + "\nkey 1 " + key32b + "\ncurrent 1\n", false},
		{"NoIndex", head + "key 1 " + key32b + "\ncurrent 1\n", false},
		{"TwoIndexes", head + "index " + key32a + "\nindex " + key32a + "\nkey 1 " + key32b + "\ncurrent 1\n", false},
		{"NoCurrent", head + "index " + key32a + "\nkey 1 " + key32b + "\n", false},
		{"CurrentWithoutKey", head + "index " + key32a + "\nkey 1 " + key32b + "\ncurrent 2\n", false},
		{"DuplicateID", head + "index " + key32a + "\nkey 1 " + key32b + "\nkey 1 " + key32a + "\ncurrent 1\n", false},
		{"ShortKey", head + "index " + key32a + "\nkey 1 AAAA\ncurrent 1\n", false},
		{"IDZero", head + "index " + key32a + "\nkey 0 " + key32b + "\ncurrent 0\n", false},
		{"UnknownLine", head + "index " + key32a + "\nkey 1 " + key32b + "\ncurrent 1\nfoo bar\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := registry.ReadDataKeys(writeKeyFile(t, tt.text))
			if tt.ok && err != nil {
				t.Fatalf("ReadDataKeys: %v", err)
			}
			if !tt.ok && !errors.Is(err, registry.ErrDataKeyFile) {
				t.Fatalf("ReadDataKeys: %v, want ErrDataKeyFile", err)
			}
			if err != nil && strings.Contains(err.Error(), key32b) {
				t.Errorf("error quotes a key: %v", err)
			}
		})
	}
}

func TestReadDataKeysRefusesExposedFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "data.key")
	if err := registry.CreateDataKeyFile(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := registry.ReadDataKeys(p); !errors.Is(err, secretfile.ErrExposed) {
		t.Fatalf("ReadDataKeys of a 0644 file: %v, want ErrExposed", err)
	}
}

func TestCreateDataKeyFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "data.key")
	if err := registry.CreateDataKeyFile(p); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
	}
	before, _ := os.ReadFile(p)
	if err := registry.CreateDataKeyFile(p); !errors.Is(err, os.ErrExist) {
		t.Errorf("second CreateDataKeyFile: %v, want ErrExist", err)
	}
	if after, _ := os.ReadFile(p); string(after) != string(before) {
		t.Error("the existing key file was changed")
	}
	if _, err := registry.ReadDataKeys(p); err != nil {
		t.Errorf("the new file does not read: %v", err)
	}
}

// rawEmailKeyID returns the data key id in the header of a registration's sealed e-mail.
func rawEmailKeyID(t *testing.T, db *sql.DB, id string) uint32 {
	t.Helper()
	var email string
	if err := db.QueryRow(`SELECT email FROM registrations WHERE id = ?`, id).Scan(&email); err != nil {
		t.Fatal(err)
	}
	b, err := base64.RawStdEncoding.DecodeString(email)
	if err != nil || len(b) < 5 {
		t.Fatalf("sealed e-mail %q does not decode: %v", email, err)
	}
	return binary.BigEndian.Uint32(b[1:5])
}

// TestDataKeyRotation: after a rotation old rows open with the old key, new rows are sealed
// with the new one, and the blind index still finds both; the file before the rotation
// cannot open the new rows.
func TestDataKeyRotation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keyFile, dbPath := filepath.Join(dir, "data.key"), filepath.Join(dir, "registry.db")
	if err := registry.CreateDataKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	raw, err := sqlstore.OpenSQLite(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	put := func(st registry.Store, id, email string, at time.Time) {
		t.Helper()
		err := st.InTx(ctx, func(ctx context.Context, tx registry.Tx) error {
			return tx.InsertRegistration(ctx, registry.Registration{ID: id, NIK: nikSiti, Email: email,
				Phone: "0812", CreatedAt: at, Status: registry.RegPending})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	oldKeys, err := registry.ReadDataKeys(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	put(registry.Seal(raw, oldKeys), "reg-old", "old@example.id", t0)

	id, err := registry.RotateDataKeyFile(keyFile)
	if err != nil || id != 2 {
		t.Fatalf("RotateDataKeyFile: id %d, %v; want 2", id, err)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("rotated key file: %v, %v; want mode 0600", fi, err)
	}
	newKeys, err := registry.ReadDataKeys(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	sealed := registry.Seal(raw, newKeys)
	put(sealed, "reg-new", "new@example.id", t0.Add(time.Minute))

	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := rawEmailKeyID(t, db, "reg-old"); got != 1 {
		t.Errorf("old row sealed with key %d, want 1", got)
	}
	if got := rawEmailKeyID(t, db, "reg-new"); got != 2 {
		t.Errorf("new row sealed with key %d, want 2", got)
	}
	err = sealed.InTx(ctx, func(ctx context.Context, tx registry.Tx) error {
		regs, err := tx.RegistrationsByNIK(ctx, nikSiti)
		if err != nil {
			return err
		}
		if len(regs) != 2 || regs[0].Email != "old@example.id" || regs[1].Email != "new@example.id" {
			t.Errorf("registrations after rotation: %+v", regs)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = registry.Seal(raw, oldKeys).InTx(ctx, func(ctx context.Context, tx registry.Tx) error {
		_, err := tx.Registration(ctx, "reg-new")
		return err
	})
	if !errors.Is(err, registry.ErrUnknownDataKey) {
		t.Errorf("old key file reading a new row: %v, want ErrUnknownDataKey", err)
	}
}

// TestSealedValueBoundToRow: a sealed e-mail copied into another registration does not open
// there, so rows cannot be swapped in the database unnoticed.
func TestSealedValueBoundToRow(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "registry.db")
	raw, err := sqlstore.OpenSQLite(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	st := registry.Seal(raw, testKeys(t))
	err = st.InTx(ctx, func(ctx context.Context, tx registry.Tx) error {
		for _, id := range []string{"reg-a", "reg-b"} {
			if err := tx.InsertRegistration(ctx, registry.Registration{ID: id, NIK: nikSiti, Email: id + "@example.id",
				CreatedAt: t0.Add(time.Second), Status: registry.RegPending}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE registrations SET email = (SELECT email FROM registrations WHERE id = 'reg-a')
		WHERE id = 'reg-b'`); err != nil {
		t.Fatal(err)
	}
	err = st.InTx(ctx, func(ctx context.Context, tx registry.Tx) error {
		_, err := tx.Registration(ctx, "reg-b")
		return err
	})
	if !errors.Is(err, registry.ErrSealBroken) {
		t.Fatalf("moved e-mail: %v, want ErrSealBroken", err)
	}
}
