package token

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/ikd-field/ikd/internal/secretfile"
)

// Registry signing keys are kept in PEM files: the private key as PKCS#8 ("PRIVATE KEY"), the
// public key as PKIX ("PUBLIC KEY"), both readable by OpenSSL. The key id is written as a line
//
//	Key-Id: reg-2026-11
//
// of explanatory text before the BEGIN line (RFC 7468 §5.2), not as a PEM header, because
// OpenSSL refuses headers in these blocks ("not proc type").

const keyIDLabel = "Key-Id:"

// DefaultKeyID names a key after its public key: the first 6 bytes of its SHA-256, in hex.
func DefaultKeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:6])
}

// MarshalPrivateKeyPEM returns the PEM file of a signing key with id kid.
func MarshalPrivateKeyPEM(kid string, key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return keyPEM(kid, "PRIVATE KEY", der)
}

// MarshalPublicKeyPEM returns the PEM file of a public key with id kid.
func MarshalPublicKeyPEM(kid string, pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return keyPEM(kid, "PUBLIC KEY", der)
}

func keyPEM(kid, typ string, der []byte) ([]byte, error) {
	if err := checkKeyID(kid); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s\n", keyIDLabel, kid)
	if err := pem.Encode(&b, &pem.Block{Type: typ, Bytes: der}); err != nil {
		return nil, fmt.Errorf("encode %s: %w", strings.ToLower(typ), err)
	}
	return b.Bytes(), nil
}

// ParsePrivateKeyPEM reads a signing key file; kid is empty when the file names no key id.
func ParsePrivateKeyPEM(data []byte) (kid string, key ed25519.PrivateKey, err error) {
	kid, der, err := parseKeyPEM(data, "PRIVATE KEY")
	if err != nil {
		return "", nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return "", nil, fmt.Errorf("parse private key: %w", err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return "", nil, fmt.Errorf("private key is a %T, not Ed25519", k)
	}
	return kid, key, nil
}

// ReadPrivateKeyFile reads and parses a signing key file through secretfile.Read, so a key
// file others can read, or one larger than a key, is refused.
func ReadPrivateKeyFile(path string) (kid string, key ed25519.PrivateKey, err error) {
	data, err := secretfile.Read(path)
	if err != nil {
		return "", nil, fmt.Errorf("read signing key: %w", err)
	}
	if kid, key, err = ParsePrivateKeyPEM(data); err != nil {
		return "", nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return kid, key, nil
}

// ParsePublicKeyPEM reads a public key file; kid is empty when the file names no key id.
func ParsePublicKeyPEM(data []byte) (kid string, pub ed25519.PublicKey, err error) {
	kid, der, err := parseKeyPEM(data, "PUBLIC KEY")
	if err != nil {
		return "", nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return "", nil, fmt.Errorf("parse public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return "", nil, fmt.Errorf("public key is a %T, not Ed25519", k)
	}
	return kid, pub, nil
}

// parseKeyPEM returns the key id and the DER bytes of the first PEM block, which must be of
// type typ. The key id comes from a "Key-Id:" line before the block or, from files made by
// other tools, a Key-Id PEM header.
func parseKeyPEM(data []byte, typ string) (string, []byte, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return "", nil, errors.New("no PEM block found")
	}
	if block.Type != typ {
		return "", nil, fmt.Errorf("PEM block is %q, want %q", block.Type, typ)
	}
	kid := block.Headers["Key-Id"]
	sc := bufio.NewScanner(bytes.NewReader(data))
	for kid == "" && sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "-----BEGIN") {
			break
		}
		if v, ok := strings.CutPrefix(line, keyIDLabel); ok {
			kid = strings.TrimSpace(v)
		}
	}
	if kid != "" {
		if err := checkKeyID(kid); err != nil {
			return "", nil, err
		}
	}
	return kid, block.Bytes, nil
}

func checkKeyID(kid string) error {
	if kid == "" || len(kid) > maxIDLen {
		return fmt.Errorf("key id must be 1 to %d bytes, got %d", maxIDLen, len(kid))
	}
	return checkText("key id", kid, maxIDLen)
}
