package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/internal/secretfile"
)

func TestKeyPEMRoundTrip(t *testing.T) {
	pub := regKey.Public().(ed25519.PublicKey)
	privPEM, err := MarshalPrivateKeyPEM(kid, regKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := MarshalPublicKeyPEM(kid, pub)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(pubPEM), "Key-Id: reg-2026-11\n-----BEGIN PUBLIC KEY-----\n") {
		t.Fatalf("public key file layout:\n%s", pubPEM)
	}
	gotKid, gotKey, err := ParsePrivateKeyPEM(privPEM)
	if err != nil || gotKid != kid || !gotKey.Equal(regKey) {
		t.Fatalf("ParsePrivateKeyPEM = %q, %v", gotKid, err)
	}
	gotKid, gotPub, err := ParsePublicKeyPEM(pubPEM)
	if err != nil || gotKid != kid || !gotPub.Equal(pub) {
		t.Fatalf("ParsePublicKeyPEM = %q, %v", gotKid, err)
	}
}

func TestKeyPEMWithoutKeyID(t *testing.T) {
	der, _ := x509.MarshalPKIXPublicKey(regKey.Public())
	plain := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}) // as openssl writes it
	gotKid, _, err := ParsePublicKeyPEM(plain)
	if err != nil || gotKid != "" {
		t.Fatalf("ParsePublicKeyPEM = %q, %v; want no key id", gotKid, err)
	}
	withHeader := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: map[string]string{"Key-Id": "k-1"}, Bytes: der})
	if gotKid, _, err := ParsePublicKeyPEM(withHeader); err != nil || gotKid != "k-1" {
		t.Fatalf("PEM header key id: %q, %v", gotKid, err)
	}
}

func TestKeyPEMRejects(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	ecPriv, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	privPEM, _ := MarshalPrivateKeyPEM(kid, regKey)
	pubPEM, _ := MarshalPublicKeyPEM(kid, regKey.Public().(ed25519.PublicKey))
	tests := []struct {
		name  string
		parse func([]byte) error
		data  []byte
	}{
		{"NotPEM", parsePub, []byte("hello")},
		{"PrivateKeyGivenAsPublic", parsePub, privPEM},
		{"PublicKeyGivenAsPrivate", parsePriv, pubPEM},
		{"ECDSAPublicKey", parsePub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER})},
		{"ECDSAPrivateKey", parsePriv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecPriv})},
		{"GarbageDER", parsePub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}})},
		{"KeyIDTooLong", parsePub, append([]byte("Key-Id: "+strings.Repeat("k", 65)+"\n"), pubPEM[len("Key-Id: reg-2026-11\n"):]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.parse(tt.data); err == nil {
				t.Fatal("parsed without error")
			}
		})
	}
	if _, err := MarshalPublicKeyPEM("", regKey.Public().(ed25519.PublicKey)); err == nil {
		t.Error("empty key id accepted")
	}
}

func parsePub(b []byte) error  { _, _, err := ParsePublicKeyPEM(b); return err }
func parsePriv(b []byte) error { _, _, err := ParsePrivateKeyPEM(b); return err }

// TestKeyFilesReadableByOpenSSL checks the claim that OpenSSL reads the files (it refuses PEM
// headers, which is why the key id is explanatory text). Skips without openssl.
func TestKeyFilesReadableByOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	privPEM, _ := MarshalPrivateKeyPEM(kid, regKey)
	pubPEM, _ := MarshalPublicKeyPEM(kid, regKey.Public().(ed25519.PublicKey))
	priv, pub := filepath.Join(dir, "k.key"), filepath.Join(dir, "k.pub")
	if err := os.WriteFile(priv, privPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, pubPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	derived, err := exec.Command(openssl, "pkey", "-in", priv, "-pubout").Output()
	if err != nil {
		t.Fatalf("openssl cannot read the private key file: %v", err)
	}
	if out, err := exec.Command(openssl, "pkey", "-pubin", "-in", pub, "-noout").CombinedOutput(); err != nil {
		t.Fatalf("openssl cannot read the public key file: %v\n%s", err, out)
	}
	if !bytes.Contains(pubPEM, derived) {
		t.Fatalf("openssl derives a different public key:\n%s\nfile:\n%s", derived, pubPEM)
	}
}

func TestDefaultKeyID(t *testing.T) {
	a := DefaultKeyID(regKey.Public().(ed25519.PublicKey))
	b := DefaultKeyID(testKey("other").Public().(ed25519.PublicKey))
	if len(a) != 12 || a == b {
		t.Fatalf("DefaultKeyID: %q and %q", a, b)
	}
}

func TestReadPrivateKeyFile(t *testing.T) {
	privPEM, err := MarshalPrivateKeyPEM(kid, regKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(data []byte, mode os.FileMode) string {
		p := filepath.Join(t.TempDir(), "registry-signing.key")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // exactly, whatever the umask
			t.Fatal(err)
		}
		return p
	}
	t.Run("PrivateFile", func(t *testing.T) {
		gotKid, gotKey, err := ReadPrivateKeyFile(write(privPEM, 0o600))
		if err != nil || gotKid != kid || !gotKey.Equal(regKey) {
			t.Fatalf("ReadPrivateKeyFile = %q, %v", gotKid, err)
		}
	})
	tests := []struct {
		name    string
		path    string
		wantErr error
		want    string
	}{
		{"WorldReadable", write(privPEM, 0o644), secretfile.ErrExposed, "chmod 600"},
		{"KeyAfterMegabyteOfText", write(append(bytes.Repeat([]byte("x"), 1<<20), privPEM...), 0o600), secretfile.ErrTooLarge, "more than"},
		{"DevZero", "/dev/zero", secretfile.ErrTooLarge, "/dev/zero"},
		{"NotAKey", write([]byte("not a key"), 0o600), nil, "no PEM block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ReadPrivateKeyFile(tt.path)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ReadPrivateKeyFile: %v; want %v containing %q", err, tt.wantErr, tt.want)
			}
		})
	}
}
