package main

import (
	"context"
	"image"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/kiosktest"
	"github.com/ikd-field/ikd/kiosk/qr"
	"github.com/ikd-field/ikd/kiosk/token"
)

// trustKeysDir returns a trust store holding the public key written by "keys new" in dir.
func trustKeysDir(t *testing.T, dir string) *kiosktest.TrustStore {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, signingPubFile))
	if err != nil {
		t.Fatal(err)
	}
	kid, pub, err := token.ParsePublicKeyPEM(b)
	if err != nil {
		t.Fatal(err)
	}
	return kiosktest.Keyring(kiosk.RegistryKey{KeyID: kid, PublicKey: pub})
}

func decodeQRFile(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// The kiosk's own scanner: what matters is that a counter reads what qr make writes.
	text, err := (&qr.Scanner{Budget: qr.NoBudget}).Decode(context.Background(), img)
	if err != nil {
		t.Fatalf("the written QR does not decode: %v", err)
	}
	return text
}

func TestQRMake(t *testing.T) {
	keys := mustKeysNew(t, "--kid", "reg-2026-11")
	out := filepath.Join(t.TempDir(), "token.png")
	code, stdout, stderr := runCmd(t, "qr", "make", "--key", filepath.Join(keys, signingKeyFile),
		"--nik", "3201014501900001", "--reg-id", "0190f3b2-7c1e-7a4b-9c3d-5e6f708192a3",
		"--email", "budi@gmail.com", "--phone", "+62 812-3456-7789",
		"--issued-at", "2026-11-23T06:00:00Z", "--ttl", "5m", out)
	if code != 0 {
		t.Fatalf("qr make: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "version 9, error correction M") {
		t.Errorf("output does not state QR version 9 at EC M:\n%s", stdout)
	}
	text := decodeQRFile(t, out)
	if !strings.Contains(stdout, text) {
		t.Errorf("printed token differs from the QR's text %q", text)
	}
	issued := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	tok, err := token.NewVerifier(trustKeysDir(t, keys)).Verify(context.Background(), text, issued.Add(time.Minute))
	if err != nil {
		t.Fatalf("the QR's token does not verify: %v", err)
	}
	want := kiosk.Token{KeyID: "reg-2026-11", NIK: "3201014501900001", RegistrationID: "0190f3b2-7c1e-7a4b-9c3d-5e6f708192a3",
		MaskedEmail: "b***i@gmail.com", MaskedPhone: "0812****789", IssuedAt: issued, ExpiresAt: issued.Add(5 * time.Minute)}
	if tok != want {
		t.Fatalf("token %+v\nwant  %+v", tok, want)
	}
}

func TestQRMakeDefaultsToNewRegistrationID(t *testing.T) {
	keys := mustKeysNew(t)
	out := filepath.Join(t.TempDir(), "token.png")
	code, _, stderr := runCmd(t, "qr", "make", "--key", filepath.Join(keys, signingKeyFile),
		"--nik", "3201014501900001", "--email", "siti@mail.id", "--phone", "081234567789", out)
	if code != 0 {
		t.Fatalf("qr make: exit %d: %s", code, stderr)
	}
	tok, err := token.NewVerifier(trustKeysDir(t, keys)).Verify(context.Background(), decodeQRFile(t, out), time.Now())
	if err != nil || len(tok.RegistrationID) != 36 {
		t.Fatalf("token %+v, %v; want a fresh UUID registration id, valid now", tok, err)
	}
}

func TestQRMakeFailures(t *testing.T) {
	keys := mustKeysNew(t)
	key := filepath.Join(keys, signingKeyFile)
	out := filepath.Join(t.TempDir(), "token.png")
	// The public key file is 0644; a private copy gets past the permission check to the parser.
	pubAsKey := copyWithMode(t, filepath.Join(keys, signingPubFile), 0o600)
	exposedKey := copyWithMode(t, key, 0o644)
	base := func(extra ...string) []string {
		args := map[string]string{"--key": key, "--nik": "3201014501900001", "--email": "budi@gmail.com", "--phone": "081234567789"}
		for i := 0; i+1 < len(extra); i += 2 {
			args[extra[i]] = extra[i+1]
		}
		out := []string{"qr", "make"}
		for k, v := range args {
			if v != "" {
				out = append(out, k, v)
			}
		}
		return out
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"NoOutputFile", base(), 2, "usage"},
		{"NoNIK", append(base("--nik", ""), out), 2, "usage"},
		{"InvalidNIK", append(base("--nik", "9934567890123456"), out), 1, "province"},
		{"BadEmail", append(base("--email", "budi"), out), 2, "e-mail"},
		{"BadPhone", append(base("--phone", "12"), out), 2, "phone"},
		{"PublicKeyAsSigningKey", append(base("--key", pubAsKey), out), 1, "PRIVATE KEY"},
		{"WorldReadableSigningKey", append(base("--key", exposedKey), out), 1, "chmod 600 " + exposedKey},
		{"DevZeroAsSigningKey", append(base("--key", "/dev/zero"), out), 1, "more than 4096 bytes"},
		{"BadIssuedAt", append(base("--issued-at", "yesterday"), out), 2, "issued-at"},
		{"NegativeTTL", append(base("--ttl", "-5m"), out), 1, "expires-at"},
		{"BadScale", append(base("--scale", "0"), out), 2, "scale"},
		{"UnwritableOutput", append(base(), filepath.Join(t.TempDir(), "missing", "x.png")), 1, "write QR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tt.wantCode, tt.want)
			}
		})
	}
}

// copyWithMode copies src to a fresh file with exactly mode (os.WriteFile is subject to the
// umask).
func copyWithMode(t *testing.T, src string, mode os.FileMode) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
	return dst
}
