package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	"github.com/ikd-field/ikd/kiosk/token"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/sqlstore"
)

// testCitizenToken is the test registry's citizen API token.
const testCitizenToken = "citizen-test-token-0123456789"

// testRegistry serves a real registry on SQLite, sealed, over loopback; it returns the store,
// the server, the --db value of its database and its data key file.
func testRegistry(t *testing.T) (registry.Store, *httptest.Server, string, string) {
	t.Helper()
	st, dsn, keyFile := sealedRegistryDB(t)
	return st, serveRegistry(t, st), dsn, keyFile
}

// sealedRegistryDB opens a sealed registry database on SQLite; it returns the store, its --db
// value and its data key file.
func sealedRegistryDB(t *testing.T) (registry.Store, string, string) {
	t.Helper()
	ctx := context.Background()
	dbPath, keyFile := filepath.Join(t.TempDir(), "registry.db"), filepath.Join(t.TempDir(), "data.key")
	if err := registry.CreateDataKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	keys, err := registry.ReadDataKeys(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sqlstore.OpenSQLite(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return registry.Seal(raw, keys), "sqlite:" + dbPath, keyFile
}

// serveRegistry serves a real registry on st over loopback.
func serveRegistry(t *testing.T, st registry.Store) *httptest.Server {
	t.Helper()
	hs, _, _ := serveRegistryWithKey(t, st)
	return hs
}

// serveRegistryWithKey is serveRegistry that also returns the server and its signing key.
func serveRegistryWithKey(t *testing.T, st registry.Store) (*httptest.Server, *registry.Server, registry.BundleKey) {
	t.Helper()
	ctx := context.Background()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner("reg-test", priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.EnsureKey(ctx, st, "reg-test", pub, time.Now()); err != nil {
		t.Fatal(err)
	}
	srv := &registry.Server{Store: st, Signer: signer, PublicKey: pub, TokenTTL: 10 * time.Minute,
		CodeKey: []byte("test code key"), Now: time.Now, Log: slog.New(slog.DiscardHandler),
		CitizenToken: []byte(testCitizenToken)}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs, srv, registry.BundleKey{KeyID: "reg-test", Key: priv}
}

// citizenPost posts a JSON body to the test registry's citizen API with its token.
func citizenPost(t *testing.T, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testCitizenToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// provisionRegistry puts 30 synthetic residents of Cibinong and officer sup1 (the supervisor
// the test kiosks are made with) at the registry, which authorizes records by both.
func provisionRegistry(t *testing.T, st registry.Store) {
	t.Helper()
	ctx := context.Background()
	var ndjson bytes.Buffer
	if err := snapshot.WriteSynthetic(&ndjson, 3, 30); err != nil {
		t.Fatal(err)
	}
	if _, err := registry.ImportResidents(ctx, st, &ndjson); err != nil {
		t.Fatal(err)
	}
	if err := registry.AddOfficer(ctx, st, registry.OfficerRow{ID: "sup1", Name: "Supervisor", Area: "Cibinong", Role: kiosk.RoleSupervisor}); err != nil {
		t.Fatal(err)
	}
}

// registerCitizen registers nik through the test registry's citizen API.
func registerCitizen(t *testing.T, registryURL string, nik kiosk.NIK) registry.RegistrationResponse {
	t.Helper()
	resp := citizenPost(t, registryURL+"/v1/registrations",
		`{"nik":"`+string(nik)+`","email":"warga@example.id","phone":"081234567789"}`)
	defer resp.Body.Close()
	var reg registry.RegistrationResponse
	if err := json.NewDecoder(resp.Body).Decode(&reg); err != nil || reg.RegistrationID == "" {
		t.Fatalf("register %s: %v (HTTP %d)", nik.Masked(), err, resp.StatusCode)
	}
	return reg
}

// enrolledKiosk inits a kiosk store in dir and enrolls it with the registry.
func enrolledKiosk(t *testing.T, st registry.Store, url, dir, secret string) {
	t.Helper()
	args := append([]string{"init", "--data", dir, "--secret-file", secret, "--supervisor", "Budi Santoso",
		"--id", "sup1", "--pin-file", writeFile(t, "pin", "240817\n")}, cheapKDF...)
	if code, out, errOut := runStoreCLI(t, args...); code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
	}
	code, err := registry.NewEnrollCode(context.Background(), st, "Cibinong", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if c, out, errOut := runStoreCLI(t, "enroll", "--data", dir, "--secret-file", secret, "--registry", url, "--code", code); c != 0 {
		t.Fatalf("enroll: exit %d\n%s%s", c, out, errOut)
	}
}

func TestLoadgen(t *testing.T) {
	tests := []struct {
		name          string
		kiosks, count int
		officer       bool // approve as the supervisor made by init rather than a fresh officer
		registryDB    bool // provision residents and the officer at the registry
	}{
		{name: "OneKiosk", kiosks: 1, count: 4, officer: true, registryDB: true},
		{name: "ThreeKiosksRoundRobin", kiosks: 3, count: 7, officer: true, registryDB: true},
		// The registry refuses activations of residents it does not hold, and by an officer it
		// does not list (loadgen's fresh officer exists only on the kiosk).
		{name: "ResidentsNotAtRegistry", kiosks: 1, count: 2, officer: true},
		{name: "OfficerNotAtRegistry", kiosks: 1, count: 2, registryDB: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, hs, dsn, keyFile := testRegistry(t)
			url := hs.URL
			root := t.TempDir()
			secret := writeFile(t, "secret", "kata-sandi-kiosk\n")
			dirs := []string{root}
			if tc.kiosks > 1 {
				dirs = nil
				for k := 1; k <= tc.kiosks; k++ {
					dirs = append(dirs, filepath.Join(root, fmt.Sprintf("kiosk-%02d", k)))
				}
			}
			for _, d := range dirs {
				enrolledKiosk(t, st, url, d, secret)
			}
			// sup1, the supervisor each kiosk was made with, is in the registry's list.
			if err := registry.AddOfficer(context.Background(), st, registry.OfficerRow{ID: "sup1", Name: "Budi Santoso",
				Area: "Cibinong", Role: kiosk.RoleSupervisor}); err != nil {
				t.Fatal(err)
			}
			args := []string{"loadgen", "--data", root, "--secret-file", secret, "--count", fmt.Sprint(tc.count),
				"--kiosks", fmt.Sprint(tc.kiosks), "--seed", "7",
				"--citizen-token-file", writeFile(t, "citizen.token", testCitizenToken+"\n")}
			if tc.officer {
				args = append(args, "--officer", "sup1", "--pin-file", writeFile(t, "pin", "240817\n"))
			}
			if tc.registryDB {
				args = append(args, "--registry-db", dsn, "--data-key-file", keyFile)
			}
			code, out, errOut := runStoreCLI(t, args...)
			if code != 0 {
				t.Fatalf("loadgen: exit %d\n%s%s", code, out, errOut)
			}
			if want := fmt.Sprintf("loadgen: %d registrations approved on %d kiosk(s), %d residents added", tc.count, tc.kiosks, tc.count); !strings.Contains(out, want) {
				t.Fatalf("output %q, want %q", out, want)
			}
			for _, d := range dirs {
				if c, out, errOut := runStoreCLI(t, "sync", "--data", d, "--secret-file", secret, "--batch", "2"); c != 0 {
					t.Fatalf("sync %s: exit %d\n%s%s", d, c, out, errOut)
				}
			}
			s, err := st.Stats(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			accepted := int64(tc.count)
			if !tc.registryDB || !tc.officer {
				accepted = 0
			}
			if s.Registrations != int64(tc.count) || s.ActivationsAccepted != accepted || s.MailsQueued != accepted {
				t.Errorf("registry stats %+v, want %d registrations and %d accepted activations", s, tc.count, accepted)
			}
			if tc.registryDB {
				// The round-robin spread must give distinct residents: one per registration.
				var n int
				_ = st.InTx(context.Background(), func(ctx context.Context, tx registry.Tx) error {
					ch, err := tx.Changes(ctx, "Cibinong", 0, 1000)
					n = len(ch.Residents)
					return err
				})
				if n != tc.count {
					t.Errorf("%d residents in the registry, want %d", n, tc.count)
				}
			}
			// A second run with the same seed adds no residents but registers again.
			code, out, errOut = runStoreCLI(t, args...)
			if code != 0 || !strings.Contains(out, ", 0 residents added") {
				t.Fatalf("second loadgen: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

func TestLoadgenUsage(t *testing.T) {
	for _, args := range [][]string{
		{"loadgen", "--data", t.TempDir()},
		{"loadgen", "--data", t.TempDir(), "--count", "3", "--officer", "x"},
		{"loadgen", "--data", t.TempDir(), "--count", "3", "extra"},
		{"loadgen", "--data", t.TempDir(), "--count", "3"}, // no --citizen-token-file
	} {
		if code, _, _ := runStoreCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
