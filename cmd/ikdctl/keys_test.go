package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store"
	"github.com/ikd-field/ikd/kiosk/token"
)

// runCmd runs ikdctl with args and returns its exit status and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// mustKeysNew runs "keys new" into a fresh directory and returns it.
func mustKeysNew(t *testing.T, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "keys")
	if code, _, stderr := runCmd(t, append([]string{"keys", "new", "--out", dir}, args...)...); code != 0 {
		t.Fatalf("keys new: exit %d: %s", code, stderr)
	}
	return dir
}

func TestKeysNew(t *testing.T) {
	dir := mustKeysNew(t, "--kid", "reg-2026-11")
	privPath, pubPath := filepath.Join(dir, signingKeyFile), filepath.Join(dir, signingPubFile)
	info, err := os.Stat(privPath)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v, want 0600", info.Mode().Perm())
	}
	privPEM, _ := os.ReadFile(privPath)
	pubPEM, _ := os.ReadFile(pubPath)
	kid, priv, err := token.ParsePrivateKeyPEM(privPEM)
	if err != nil || kid != "reg-2026-11" {
		t.Fatalf("private key file: kid %q, %v", kid, err)
	}
	kid, pub, err := token.ParsePublicKeyPEM(pubPEM)
	if err != nil || kid != "reg-2026-11" {
		t.Fatalf("public key file: kid %q, %v", kid, err)
	}
	if !pub.Equal(priv.Public()) {
		t.Fatal("the public key file does not match the private key")
	}
}

func TestKeysNewDefaultKeyID(t *testing.T) {
	dir := mustKeysNew(t)
	pubPEM, _ := os.ReadFile(filepath.Join(dir, signingPubFile))
	kid, pub, err := token.ParsePublicKeyPEM(pubPEM)
	if err != nil || kid != token.DefaultKeyID(pub) {
		t.Fatalf("kid %q, %v; want %q", kid, err, token.DefaultKeyID(pub))
	}
}

func TestKeysNewRefusesToOverwrite(t *testing.T) {
	dir := mustKeysNew(t)
	before, _ := os.ReadFile(filepath.Join(dir, signingKeyFile))
	code, _, stderr := runCmd(t, "keys", "new", "--out", dir)
	if code == 0 || !strings.Contains(stderr, "refusing to overwrite") {
		t.Fatalf("second keys new: exit %d: %s", code, stderr)
	}
	after, _ := os.ReadFile(filepath.Join(dir, signingKeyFile))
	if !bytes.Equal(before, after) {
		t.Fatal("the existing private key was changed")
	}
}

func TestKeysUsage(t *testing.T) {
	for name, args := range map[string][]string{
		"NoSubcommand":    {"keys"},
		"UnknownSub":      {"keys", "rotate"},
		"NewWithoutOut":   {"keys", "new"},
		"TrustWithoutKey": {"keys", "trust", "--data", "d", "--secret-file", "s"},
		"TrustTwoKeys":    {"keys", "trust", "a.pub", "b.pub"},
	} {
		t.Run(name, func(t *testing.T) {
			if code, _, _ := runCmd(t, args...); code != 2 {
				t.Fatalf("exit %d, want 2 (usage)", code)
			}
		})
	}
}

// mustKioskStore creates a kiosk store in a fresh data directory, as "ikdctl init" would, with
// cheap key derivation for tests; it returns the directory and the secret file.
func mustKioskStore(t *testing.T) (dataDir, secretFile string) {
	t.Helper()
	dataDir = t.TempDir()
	secret := "rahasia-kiosk-uji"
	secretFile = filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Create(context.Background(), filepath.Join(dataDir, "kiosk.db"), []byte(secret),
		store.Options{KDF: store.MinKDF})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dataDir, secretFile
}

func openTestStore(t *testing.T, dataDir, secretFile string) *store.Store {
	t.Helper()
	st, err := openStore(context.Background(), dataDir, secretFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestKeysTrust(t *testing.T) {
	keys := mustKeysNew(t, "--kid", "reg-2026-11")
	dataDir, secretFile := mustKioskStore(t)
	code, stdout, stderr := runCmd(t, "keys", "trust", "--data", dataDir, "--secret-file", secretFile,
		"--not-after", "2027-06-01T00:00:00Z", filepath.Join(keys, signingPubFile))
	if code != 0 {
		t.Fatalf("keys trust: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "reg-2026-11") {
		t.Errorf("output does not name the key: %q", stdout)
	}
	got, err := openTestStore(t, dataDir, secretFile).RegistryKey(context.Background(), "reg-2026-11")
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, _ := os.ReadFile(filepath.Join(keys, signingPubFile))
	_, pub, _ := token.ParsePublicKeyPEM(pubPEM)
	if !bytes.Equal(got.PublicKey, pub) || !got.NotAfter.Equal(time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)) || !got.NotBefore.IsZero() {
		t.Fatalf("stored key %+v", got)
	}
}

func TestKeysTrustKidOverride(t *testing.T) {
	keys := mustKeysNew(t)
	dataDir, secretFile := mustKioskStore(t)
	if code, _, stderr := runCmd(t, "keys", "trust", "--data", dataDir, "--secret-file", secretFile, "--kid", "reg-x",
		filepath.Join(keys, signingPubFile)); code != 0 {
		t.Fatalf("keys trust: exit %d: %s", code, stderr)
	}
	if _, err := openTestStore(t, dataDir, secretFile).RegistryKey(context.Background(), "reg-x"); err != nil {
		t.Fatal(err)
	}
}

func TestKeysTrustFailures(t *testing.T) {
	keys := mustKeysNew(t)
	pubPath := filepath.Join(keys, signingPubFile)
	dataDir, secretFile := mustKioskStore(t)
	wrongSecret := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrongSecret, []byte("not-the-secret"), 0o600)
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"PrivateKeyGiven", []string{"--data", dataDir, "--secret-file", secretFile, filepath.Join(keys, signingKeyFile)}, "PUBLIC KEY"},
		{"MissingKeyFile", []string{"--data", dataDir, "--secret-file", secretFile, filepath.Join(keys, "none.pub")}, "no such file"},
		{"KeyFileIsDevZero", []string{"--data", dataDir, "--secret-file", secretFile, "/dev/zero"}, "not a public key PEM"},
		{"BadNotAfter", []string{"--data", dataDir, "--secret-file", secretFile, "--not-after", "next year", pubPath}, "not-after"},
		{"NoStore", []string{"--data", t.TempDir(), "--secret-file", secretFile, pubPath}, "open store"},
		{"WrongSecret", []string{"--data", dataDir, "--secret-file", wrongSecret, pubPath}, "open store"},
		{"WindowEndsBeforeStart", []string{"--data", dataDir, "--secret-file", secretFile, "--not-before", "2027-01-01T00:00:00Z",
			"--not-after", "2026-01-01T00:00:00Z", pubPath}, "not_after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, append([]string{"keys", "trust"}, tt.args...)...)
			if code == 0 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want a failure mentioning %q", code, stderr, tt.want)
			}
		})
	}
}

func TestKeysTrustConflictingKeyID(t *testing.T) {
	first, second := mustKeysNew(t, "--kid", "reg-1"), mustKeysNew(t, "--kid", "reg-1")
	dataDir, secretFile := mustKioskStore(t)
	trust := func(dir string) int {
		code, _, _ := runCmd(t, "keys", "trust", "--data", dataDir, "--secret-file", secretFile, filepath.Join(dir, signingPubFile))
		return code
	}
	if trust(first) != 0 {
		t.Fatal("first key refused")
	}
	if trust(second) == 0 {
		t.Fatal("a different key under a trusted key id was accepted")
	}
	_, err := openTestStore(t, dataDir, secretFile).RegistryKey(context.Background(), "reg-1")
	if errors.Is(err, kiosk.ErrNotFound) {
		t.Fatal("the first key was lost")
	}
}
