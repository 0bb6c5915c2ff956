package main

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	"github.com/ikd-field/ikd/kiosk/token"
)

// sqliteEdit edits the closed store with plain SQL, as an insider with sqlite3 would.
func sqliteEdit(t *testing.T, dataDir string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", storePath(dataDir))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestStoreVerify(t *testing.T) {
	data, secret := initStore(t)
	runOK := func(args ...string) string {
		t.Helper()
		code, out, errOut := runStoreCLI(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}
	runOK("officer", "add", "--data", data, "--secret-file", secret, "--id", "off1", "--name", "Rina",
		"--role", "officer", "--pin-file", writeFile(t, "p", "583920"))
	keys := mustKeysNew(t, "--kid", "reg-1")
	runOK("keys", "trust", "--data", data, "--secret-file", secret, filepath.Join(keys, signingPubFile))
	var nd strings.Builder
	for i := range 3 {
		line, err := snapshot.EncodeLine(snapshot.Synthetic(3, i))
		if err != nil {
			t.Fatal(err)
		}
		nd.Write(append(line, '\n'))
	}
	runOK("residents", "import", "--data", data, "--secret-file", secret, writeFile(t, "r.ndjson", nd.String()))

	out := runOK("store", "verify", "--data", data, "--secret-file", secret)
	for _, want := range []string{"registry_keys  ok (1 rows)", "officers       ok (2 rows)", "residents      ok (3 rows)",
		"audit          ok", "anchor         ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("clean store: output lacks %q:\n%s", want, out)
		}
	}

	// An outbox record to edit: reanchor queues a checkpoint (verify only reads).
	runOK("store", "reanchor", "--data", data, "--secret-file", secret)
	sqliteEdit(t, data,
		"INSERT INTO registry_keys (kid, public_key, not_before, not_after, added_at) VALUES ('evil', randomblob(32), 0, 0, 0)",
		"UPDATE officers SET role = 'supervisor' WHERE id = 'off1'",
		"UPDATE outbox SET state = 'acknowledged' WHERE seq = 1",
		"UPDATE residents SET kecamatan = 'Lain' WHERE id = 2")
	code, out, _ := runStoreCLI(t, "store", "verify", "--data", data, "--secret-file", secret)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{`registry_keys  BAD: 1 of 2 rows; first: registry_keys "evil"`,
		"officers       BAD: 1 of 2 rows; first: officers off1", "outbox         BAD: 1 of 1 rows; first: outbox 1 ",
		"residents      BAD: 1 of 3 rows; first: residents 2", "audit          ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("edited store: output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "checkpoint ") {
		t.Errorf("a checkpoint was queued for a store that fails verification:\n%s", out)
	}

	// The other commands show the good rows and name the bad ones.
	code, out, errOut := runStoreCLI(t, "officer", "list", "--data", data, "--secret-file", secret)
	if code == 0 || !strings.Contains(out, "sup1") || strings.Contains(out, "off1") || !strings.Contains(errOut, "officers row off1") {
		t.Errorf("officer list: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runStoreCLI(t, "queue", "--data", data, "--secret-file", secret)
	if code == 0 || !strings.Contains(out, "acknowledged  0") || !strings.Contains(errOut, "store.tampered") {
		t.Errorf("queue: exit %d\n%s%s", code, out, errOut)
	}
}

func TestStoreVerifyRolledBack(t *testing.T) {
	data, secret := initStore(t)
	old, err := os.ReadFile(storePath(data))
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runStoreCLI(t, "officer", "add", "--data", data, "--secret-file", secret, "--id", "off1",
		"--name", "Rina", "--role", "officer", "--pin-file", writeFile(t, "p", "583920")); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut) // the store moves on
	}
	if err := os.WriteFile(storePath(data), old, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runStoreCLI(t, "store", "verify", "--data", data, "--secret-file", secret)
	if code != 1 || !strings.Contains(out, "anchor         BAD: audit log ends at entry") {
		t.Fatalf("exit %d, want 1 naming the anchor:\n%s", code, out)
	}
	code, _, errOut := runStoreCLI(t, "queue", "--data", data, "--secret-file", secret)
	if code == 0 || !strings.Contains(errOut, "older than its last record") {
		t.Errorf("queue on a rolled-back store: exit %d: %s", code, errOut)
	}
	// The backup was put back on purpose: the operator resets the anchor, and the store
	// is usable again.
	if code, out, errOut := runStoreCLI(t, "store", "reanchor", "--data", data, "--secret-file", secret); code != 0 ||
		!strings.Contains(out, "checkpoint ") {
		t.Fatalf("reanchor: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runStoreCLI(t, "queue", "--data", data, "--secret-file", secret); code != 0 {
		t.Errorf("queue after reanchor: exit %d\n%s%s", code, out, errOut)
	}
}

// TestQRDecodeRefusesPlantedKey: a registry key inserted with sqlite3 does not make the
// tokens it signs verify.
func TestQRDecodeRefusesPlantedKey(t *testing.T) {
	keys := mustKeysNew(t, "--kid", "reg-evil")
	pemData, err := os.ReadFile(filepath.Join(keys, signingPubFile))
	if err != nil {
		t.Fatal(err)
	}
	_, pub, err := token.ParsePublicKeyPEM(pemData)
	if err != nil {
		t.Fatal(err)
	}
	dataDir, secretFile := mustKioskStore(t)
	db, err := sql.Open("sqlite", storePath(dataDir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO registry_keys (kid, public_key, not_before, not_after, added_at) VALUES ('reg-evil', ?, 0, 0, 0)", []byte(pub)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	img := filepath.Join(t.TempDir(), "forged.png")
	if code, _, stderr := runCmd(t, "qr", "make", "--key", filepath.Join(keys, signingKeyFile), "--nik", "3201014501900001",
		"--email", "budi@gmail.com", "--phone", "081234567789", img); code != 0 {
		t.Fatalf("qr make: exit %d: %s", code, stderr)
	}
	code, stdout, _ := runCmd(t, "qr", "decode", "--data", dataDir, "--secret-file", secretFile, img)
	if code != 1 || !strings.Contains(stdout, "store.tampered") || strings.Contains(stdout, "NIK 3201014501900001") {
		t.Fatalf("exit %d, output %q; want exit 1 and the tampered-row error", code, stdout)
	}
}

func TestOfficerUnlock(t *testing.T) {
	ctx := context.Background()
	data, secret := initStore(t)
	offPIN := writeFile(t, "p", "583920")
	if code, out, errOut := runStoreCLI(t, "officer", "add", "--data", data, "--secret-file", secret, "--id", "off1",
		"--name", "Rina", "--role", "officer", "--pin-file", offPIN); code != 0 {
		t.Fatalf("officer add: exit %d\n%s%s", code, out, errOut)
	}
	// Guess through every lockout, on a clock that lets each one pass.
	now := time.Now()
	s, err := store.Open(ctx, storePath(data), []byte("kata-sandi-kiosk"), store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	pol := kiosk.DefaultLockout
	for range pol.MaxLockouts {
		for range pol.MaxAttempts {
			s.Login(ctx, "off1", "999999")
		}
		now = now.Add(24 * time.Hour)
	}
	if _, err := s.Login(ctx, "off1", "583920"); !errors.Is(err, store.ErrNeedsUnlock) {
		t.Fatalf("after %d lockouts: err = %v, want ErrNeedsUnlock", pol.MaxLockouts, err)
	}
	s.Close()

	code, _, errOut := runStoreCLI(t, "officer", "unlock", "--data", data, "--secret-file", secret, "--id", "off1",
		"--by", "off1", "--pin-file", offPIN)
	if code == 0 || !strings.Contains(errOut, "officer.needs_unlock") {
		t.Errorf("unlock by the locked officer: exit %d: %s", code, errOut)
	}
	// The supervisor's PIN is checked by signing in, not by the rules for new PINs: a PIN set
	// before the rules still works, and a wrong one is simply wrong.
	code, _, errOut = runStoreCLI(t, "officer", "unlock", "--data", data, "--secret-file", secret, "--id", "off1",
		"--by", "sup1", "--pin-file", writeFile(t, "guess", "123456"))
	if code != 1 || strings.Contains(errOut, "officer.guessable_pin") {
		t.Errorf("unlock with a wrong, guessable supervisor PIN: exit %d: %s; want a failed sign-in", code, errOut)
	}
	if code, out, errOut := runStoreCLI(t, "officer", "unlock", "--data", data, "--secret-file", secret, "--id", "off1",
		"--by", "sup1", "--pin-file", writeFile(t, "sp", "240817")); code != 0 || !strings.Contains(out, "unlocked off1") {
		t.Fatalf("unlock by the supervisor: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := openTestStore(t, data, secret).Login(ctx, "off1", "583920"); err != nil {
		t.Fatalf("login after the unlock: %v", err)
	}
}
