package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

func runStoreCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// exposed returns a copy of path that group and others may read, as a careless operator leaves it.
func exposed(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// cheapKDF is the argon2id floor, the cheapest init accepts, so the tests stay fast.
var cheapKDF = []string{"--kdf-time", "2", "--kdf-memory", "19456"}

// initStore runs "ikdctl init" in a fresh data directory and returns it and the secret file.
func initStore(t *testing.T) (dataDir, secretFile string) {
	t.Helper()
	dataDir = filepath.Join(t.TempDir(), "data")
	secretFile = writeFile(t, "secret", "kata-sandi-kiosk\n")
	args := append([]string{"init", "--data", dataDir, "--secret-file", secretFile, "--supervisor", "Budi Santoso",
		"--id", "sup1", "--pin-file", writeFile(t, "pin", "240817\n")}, cheapKDF...)
	if code, out, errOut := runStoreCLI(t, args...); code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
	}
	return dataDir, secretFile
}

func TestInitAndOfficers(t *testing.T) {
	data, secret := initStore(t)
	pin := writeFile(t, "pin", "24681012\n")

	t.Run("InitRefusesExistingStore", func(t *testing.T) {
		code, _, errOut := runStoreCLI(t, append([]string{"init", "--data", data, "--secret-file", secret,
			"--supervisor", "X", "--pin-file", pin}, cheapKDF...)...)
		if code == 0 || !strings.Contains(errOut, "already exists") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("AddAndList", func(t *testing.T) {
		code, out, errOut := runStoreCLI(t, "officer", "add", "--data", data, "--secret-file", secret,
			"--id", "off1", "--name", "Rina Wati", "--role", "officer", "--pin-file", pin)
		if code != 0 {
			t.Fatalf("add: exit %d: %s", code, errOut)
		}
		code, out, errOut = runStoreCLI(t, "officer", "list", "--data", data, "--secret-file", secret)
		if code != 0 {
			t.Fatalf("list: exit %d: %s", code, errOut)
		}
		for _, want := range []string{"sup1", "Budi Santoso", "supervisor", "off1", "Rina Wati"} {
			if !strings.Contains(out, want) {
				t.Errorf("list lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("SecretFromEnvironment", func(t *testing.T) {
		t.Setenv(secretEnv, "kata-sandi-kiosk")
		if code, _, errOut := runStoreCLI(t, "officer", "list", "--data", data); code != 0 {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"NoSecret", []string{"officer", "list", "--data", data}, 2, "no kiosk unlock secret"},
		{"WrongSecret", []string{"officer", "list", "--data", data, "--secret-file", writeFile(t, "s", "salah-sekali")}, 1, "Wrong kiosk unlock secret"},
		{"ShortPIN", []string{"officer", "add", "--data", data, "--secret-file", secret, "--id", "x", "--name", "X",
			"--pin-file", writeFile(t, "p", "12345\n")}, 2, "at least 6 digits"},
		{"BadRole", []string{"officer", "add", "--data", data, "--secret-file", secret, "--id", "x", "--name", "X",
			"--role", "admin", "--pin-file", pin}, 2, "usage"},
		{"DuplicateOfficer", []string{"officer", "add", "--data", data, "--secret-file", secret, "--id", "sup1", "--name", "X",
			"--pin-file", pin}, 1, "already registered"},
		{"NoStore", []string{"officer", "list", "--data", t.TempDir(), "--secret-file", secret}, 1, "ikdctl init"},
		{"SecretReadableByOthers", []string{"officer", "list", "--data", data, "--secret-file", exposed(t, secret)}, 1, "chmod 600"},
		{"SecretIsDevZero", []string{"officer", "list", "--data", data, "--secret-file", "/dev/zero"}, 1, "4096"},
		{"PINReadableByOthers", []string{"officer", "add", "--data", data, "--secret-file", secret, "--id", "x", "--name", "X",
			"--pin-file", exposed(t, pin)}, 1, "chmod 600"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(secretEnv, "")
			code, _, errOut := runStoreCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.says) {
				t.Errorf("exit %d (want %d): %s (want %q)", code, tc.code, errOut, tc.says)
			}
		})
	}
}

func TestInitDefaultDataDir(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("XDG_DATA_HOME", xdg)
	args := append([]string{"init", "--secret-file", writeFile(t, "s", "kata-sandi-kiosk"), "--supervisor", "Ani",
		"--pin-file", writeFile(t, "p", "583920")}, cheapKDF...)
	if code, _, errOut := runStoreCLI(t, args...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(xdg, "ikd-kiosk", "kiosk.db")); err != nil {
		t.Error(err)
	}
}

func TestResidentsImportAndShow(t *testing.T) {
	data, secret := initStore(t)
	var nd bytes.Buffer
	if err := snapshot.WriteSynthetic(&nd, 9, 5); err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "residents.ndjson", nd.String())
	r := snapshot.Synthetic(9, 2)

	code, out, errOut := runStoreCLI(t, "residents", "import", "--data", data, "--secret-file", secret, file)
	if code != 0 || !strings.Contains(out, "added 5 updated 0 rejected 0") {
		t.Fatalf("import: exit %d: %s%s", code, out, errOut)
	}
	code, out, _ = runStoreCLI(t, "residents", "import", "--data", data, "--secret-file", secret, file)
	if code != 0 || !strings.Contains(out, "added 0 updated 5 rejected 0") {
		t.Errorf("re-import: exit %d: %s", code, out)
	}

	t.Run("Show", func(t *testing.T) {
		code, out, errOut := runStoreCLI(t, "residents", "show", "--data", data, "--secret-file", secret, string(r.NIK))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{r.Name, r.Address, "Cibinong", "descriptors:  1"} {
			if !strings.Contains(out, want) {
				t.Errorf("show lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("ShowUnknown", func(t *testing.T) {
		code, _, errOut := runStoreCLI(t, "residents", "show", "--data", data, "--secret-file", secret, "3201010101010099")
		if code != 1 || !strings.Contains(errOut, "not in this kiosk's resident data") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("ShowInvalidNIK", func(t *testing.T) {
		if code, _, _ := runStoreCLI(t, "residents", "show", "--data", data, "--secret-file", secret, "12345"); code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
	})
	t.Run("BadLinesImportNothing", func(t *testing.T) {
		fresh := snapshot.Synthetic(9, 7)
		good, _ := snapshot.EncodeLine(fresh)
		bad := strings.Replace(string(good), `"status":"active"`, `"status":"hilang"`, 1)
		file := writeFile(t, "bad.ndjson", string(good)+"\n\n"+bad+"\n{\n")
		code, out, errOut := runStoreCLI(t, "residents", "import", "--data", data, "--secret-file", secret, file)
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		if !strings.Contains(out, "rejected 2") || !strings.Contains(errOut, "bad.ndjson:3: status") || !strings.Contains(errOut, "bad.ndjson:4:") {
			t.Errorf("output:\n%s\nstderr:\n%s", out, errOut)
		}
		if code, _, _ := runStoreCLI(t, "residents", "show", "--data", data, "--secret-file", secret, string(fresh.NIK)); code != 1 {
			t.Error("the good line of a rejected file was imported")
		}
	})
}

func TestAuditVerify(t *testing.T) {
	for _, tc := range []struct {
		name, sql, says string
	}{
		{"EditedEntry", "UPDATE audit SET officer_id = 'someone-else' WHERE seq = 2", "audit entry 2"},
		{"DeletedEntry", "DELETE FROM audit WHERE seq = 1", "audit entry 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, secret := initStore(t)
			code, out, errOut := runStoreCLI(t, "audit", "verify", "--data", data, "--secret-file", secret)
			if code != 0 || !strings.Contains(out, "audit log intact: 2 entries") {
				t.Fatalf("intact log: exit %d: %s%s", code, out, errOut)
			}
			// Edit the file with a second connection, as someone holding the disk would.
			db, err := sql.Open("sqlite", storePath(data))
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{"DROP TRIGGER audit_no_update", "DROP TRIGGER audit_no_delete", tc.sql} {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			db.Close()
			code, _, errOut = runStoreCLI(t, "audit", "verify", "--data", data, "--secret-file", secret)
			if code == 0 || !strings.Contains(errOut, tc.says) {
				t.Errorf("tampered log: exit %d: %s", code, errOut)
			}
		})
	}
}

func TestQueue(t *testing.T) {
	data, secret := initStore(t)
	ctx := context.Background()
	s, err := openStore(ctx, data, secret)
	if err != nil {
		t.Fatal(err)
	}
	nik := snapshot.Synthetic(1, 0).NIK
	for _, rec := range []kiosk.OutboxRecord{
		{ID: "rec-a", Kind: kiosk.KindActivation, NIK: nik, RegistrationID: "reg-a", Envelope: []byte("x")},
		{ID: "rec-d", Kind: kiosk.KindDeactivation, NIK: nik, Envelope: []byte("y")},
	} {
		if err := s.Enqueue(ctx, rec, kiosk.AuditEvent{Action: "test", Subject: rec.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RecordAnswers(ctx, []kiosk.RecordAnswer{{ID: "rec-a", State: kiosk.RecordRejected, Reason: "registrasi dicabut"}}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	code, out, errOut := runStoreCLI(t, "queue", "--data", data, "--secret-file", secret)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"pending       1", "rejected      1", "acknowledged  0", "rec-a", "registrasi dicabut", "rec-d"} {
		if !strings.Contains(out, want) {
			t.Errorf("queue lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runStoreCLI(t, "queue", "--data", data, "--secret-file", secret, "--state", "pending")
	if code != 0 || strings.Contains(out, "rec-a") || !strings.Contains(out, "rec-d") {
		t.Errorf("--state pending: exit %d:\n%s", code, out)
	}
	if code, _, _ := runStoreCLI(t, "queue", "--data", data, "--secret-file", secret, "--state", "lost"); code != 2 {
		t.Errorf("unknown state: exit %d, want 2", code)
	}
}

func TestBenchStoreSmall(t *testing.T) {
	code, out, errOut := runStoreCLI(t, "bench", "store", "--residents", "300", "--lookups", "30", "--appends", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"import 300 residents", "lookup by NIK", "durable append", "bytes/resident"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if code, _, _ := runStoreCLI(t, "bench", "store", "--residents", "0"); code != 2 {
		t.Errorf("--residents 0: exit %d, want 2", code)
	}
}
