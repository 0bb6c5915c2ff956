package token

import (
	"crypto/ed25519"
	"fmt"

	"github.com/veraison/go-cose"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/token/base45"
)

// Signer makes activation tokens with one registry signing key. It is the registry's (and
// the demo tools') side; kiosks only verify.
type Signer struct {
	keyID  string
	signer cose.Signer
}

// NewSigner returns a Signer for the key with id keyID.
func NewSigner(keyID string, key ed25519.PrivateKey) (*Signer, error) {
	if err := checkKeyID(keyID); err != nil {
		return nil, fmt.Errorf("token signer: %w", err)
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("token signer: Ed25519 private key must be %d bytes, got %d", ed25519.PrivateKeySize, len(key))
	}
	s, err := cose.NewSigner(cose.AlgorithmEdDSA, key)
	if err != nil {
		return nil, fmt.Errorf("token signer: %w", err)
	}
	return &Signer{keyID: keyID, signer: s}, nil
}

// KeyID returns the id of the signing key.
func (s *Signer) KeyID() string { return s.keyID }

// Sign returns the token text for c. Times are carried in whole seconds. It refuses claims
// the verifier would reject as malformed (invalid NIK, missing or oversized fields, expiry
// not after issue). Ed25519 is deterministic, so equal claims give equal text. It does not
// compress: zlib makes a typical token 16 bytes longer (the signature and ids do not
// compress) and would cost more than ten times the signing time.
func (s *Signer) Sign(c Claims) (string, error) {
	if _, err := kiosk.ParseNIK(string(c.NIK)); err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	nik, err := nikNumber(c.NIK)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	w := wireClaims{
		Version:        formatVersion,
		NIK:            nik,
		RegistrationID: regID(c.RegistrationID),
		MaskedEmail:    c.MaskedEmail,
		MaskedPhone:    c.MaskedPhone,
		IssuedAt:       c.IssuedAt.Unix(),
		ExpiresAt:      c.ExpiresAt.Unix(),
	}
	if err := w.check(); err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	payload, err := claimsEnc.Marshal(w)
	if err != nil {
		return "", fmt.Errorf("sign token: encode claims: %w", err)
	}
	headers := cose.Headers{Protected: cose.ProtectedHeader{
		cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA,
		cose.HeaderLabelKeyID:     []byte(s.keyID),
	}}
	msg, err := cose.Sign1(nil, s.signer, headers, payload, nil)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return Prefix + base45.Encode(msg), nil
}
