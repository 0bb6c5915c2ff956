package token

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/veraison/go-cose"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/token/base45"
)

// Defaults of the verification policy.
const (
	// DefaultClockSkew tolerates a kiosk clock that is this far off the registry's.
	DefaultClockSkew = 2 * time.Minute
	// DefaultMaxLifetime bounds exp−iat: the IKD app issues tokens valid for minutes, so a
	// longer-lived token is refused rather than trusted for a longer replay window.
	DefaultMaxLifetime = 30 * time.Minute
)

// Verifier checks activation tokens offline against the kiosk's trust store.
// It implements kiosk.TokenVerifier and is safe for concurrent use.
type Verifier struct {
	keys        kiosk.TrustStore
	skew        time.Duration
	maxLifetime time.Duration
}

var _ kiosk.TokenVerifier = (*Verifier)(nil)

// Option adjusts a Verifier's policy.
type Option func(*Verifier)

// WithClockSkew sets the tolerance for a kiosk clock that is off (default DefaultClockSkew).
func WithClockSkew(d time.Duration) Option { return func(v *Verifier) { v.skew = max(d, 0) } }

// WithMaxLifetime sets the longest accepted exp−iat (default DefaultMaxLifetime).
func WithMaxLifetime(d time.Duration) Option { return func(v *Verifier) { v.maxLifetime = d } }

// NewVerifier returns a Verifier that trusts the registry keys in keys.
func NewVerifier(keys kiosk.TrustStore, opts ...Option) *Verifier {
	v := &Verifier{keys: keys, skew: DefaultClockSkew, maxLifetime: DefaultMaxLifetime}
	for _, o := range opts {
		o(v)
	}
	return v
}

// Verify parses and verifies text at time now (the kiosk's anchored clock, see kiosk/clock).
// Token errors are *kiosk.Error values from this package; a failing trust store is returned
// wrapped as is. It never panics, whatever text holds.
func (v *Verifier) Verify(ctx context.Context, text string, now time.Time) (kiosk.Token, error) {
	msg, err := parse(text)
	if err != nil {
		return kiosk.Token{}, err
	}
	kid, err := keyID(msg)
	if err != nil {
		return kiosk.Token{}, ErrDamaged.With(err)
	}
	key, err := v.keys.RegistryKey(ctx, kid)
	if errors.Is(err, kiosk.ErrNotFound) {
		return kiosk.Token{}, ErrUnknownKey.With(fmt.Errorf("key id %q", kid))
	}
	if err != nil {
		return kiosk.Token{}, fmt.Errorf("verify token: look up registry key %q: %w", kid, err)
	}
	if len(key.PublicKey) != ed25519.PublicKeySize {
		// ed25519.Verify panics on a wrong-sized key; a bad trust store entry is an operator
		// problem, not the citizen's.
		return kiosk.Token{}, fmt.Errorf("verify token: registry key %q is %d bytes, not an Ed25519 public key", kid, len(key.PublicKey))
	}
	cv, err := cose.NewVerifier(cose.AlgorithmEdDSA, ed25519.PublicKey(key.PublicKey))
	if err != nil {
		return kiosk.Token{}, fmt.Errorf("verify token: %w", err)
	}
	if err := msg.Verify(nil, cv); err != nil {
		return kiosk.Token{}, ErrBadSignature.With(fmt.Errorf("key id %q: %w", kid, err))
	}

	// Only signed bytes are trusted from here on.
	var c wireClaims
	if err := claimsDec.Unmarshal(msg.Payload, &c); err != nil {
		return kiosk.Token{}, ErrDamaged.With(fmt.Errorf("claims: %w", err))
	}
	if c.Version != formatVersion {
		return kiosk.Token{}, ErrUnsupportedVersion.With(fmt.Errorf("claims version %d", c.Version))
	}
	if err := c.check(); err != nil {
		return kiosk.Token{}, ErrDamaged.With(fmt.Errorf("claims: %w", err))
	}
	nik, err := kiosk.ParseNIK(nikText(c.NIK))
	if err != nil {
		return kiosk.Token{}, ErrNIKInvalid.With(err)
	}
	iat, exp := time.Unix(c.IssuedAt, 0).UTC(), time.Unix(c.ExpiresAt, 0).UTC()
	if !key.ValidAt(iat) {
		return kiosk.Token{}, ErrKeyNotValid.With(fmt.Errorf("key %q valid %s to %s, token issued %s",
			kid, fmtTime(key.NotBefore), fmtTime(key.NotAfter), iat.Format(time.RFC3339)))
	}
	if life := exp.Sub(iat); life > v.maxLifetime {
		return kiosk.Token{}, ErrLifetimeTooLong.With(fmt.Errorf("lifetime %s exceeds %s", life, v.maxLifetime))
	}
	if now.Before(iat.Add(-v.skew)) {
		return kiosk.Token{}, ErrNotYetValid.With(fmt.Errorf("issued %s, kiosk time %s, tolerance %s",
			iat.Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.skew))
	}
	if !now.Before(exp.Add(v.skew)) {
		return kiosk.Token{}, ErrExpired.With(fmt.Errorf("expired %s, kiosk time %s, tolerance %s",
			exp.Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.skew))
	}
	return kiosk.Token{
		KeyID:          kid,
		NIK:            nik,
		RegistrationID: string(c.RegistrationID),
		MaskedEmail:    c.MaskedEmail,
		MaskedPhone:    c.MaskedPhone,
		IssuedAt:       iat,
		ExpiresAt:      exp,
	}, nil
}

// parse undoes the text layers (prefix, base45, optional zlib) and decodes the COSE_Sign1
// structure, without checking the signature.
func parse(text string) (*cose.Sign1Message, error) {
	// Some scanners end the text with a line break; base45 has no such character.
	text = strings.TrimRight(text, "\r\n")
	if !strings.HasPrefix(text, Prefix) {
		if v, ok := otherVersion(text); ok {
			return nil, ErrUnsupportedVersion.With(fmt.Errorf("prefix IKD%s:", v))
		}
		return nil, ErrNotIKD.With(fmt.Errorf("text starts %q", clip(text, 8)))
	}
	body := text[len(Prefix):]
	if len(text) > maxTextLen {
		return nil, ErrDamaged.With(fmt.Errorf("text is %d characters, more than %d", len(text), maxTextLen))
	}
	raw, err := base45.Decode(body)
	if err != nil {
		return nil, ErrDamaged.With(err)
	}
	if len(raw) == 0 {
		return nil, ErrDamaged.With(errors.New("empty token"))
	}
	if isZlib(raw) {
		if raw, err = inflate(raw); err != nil {
			return nil, ErrDamaged.With(err)
		}
	}
	// Before the signature: RFC 9052 §3.1 has a recipient refuse a message it cannot fully
	// process, and refusing costs nothing.
	if err := checkCritical(raw); err != nil {
		return nil, err
	}
	var msg cose.Sign1Message
	if err := msg.UnmarshalCBOR(raw); err != nil {
		return nil, ErrDamaged.With(fmt.Errorf("COSE_Sign1: %w", err))
	}
	return &msg, nil
}

// keyID returns the kid of the protected header as text.
func keyID(msg *cose.Sign1Message) (string, error) {
	v, ok := msg.Headers.Protected[cose.HeaderLabelKeyID]
	if !ok {
		return "", errors.New("no key id in the protected header")
	}
	b, ok := v.([]byte)
	if !ok || len(b) == 0 || len(b) > maxIDLen {
		return "", fmt.Errorf("key id is not a byte string of 1 to %d bytes", maxIDLen)
	}
	if err := checkText("key id", string(b), maxIDLen); err != nil {
		return "", err
	}
	return string(b), nil
}

// isZlib reports whether b starts with a zlib header (RFC 1950 §2.2): deflate method, and
// the header check bits make the first two bytes a multiple of 31. A tagged COSE_Sign1
// starts with 0xD2, which is never a deflate method byte.
func isZlib(b []byte) bool {
	return len(b) >= 2 && b[0]&0x0F == 8 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0
}

// inflate decompresses a zlib stream, refusing output beyond maxCOSELen (a zip bomb).
func inflate(b []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("zlib: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxCOSELen+1))
	if err != nil {
		return nil, fmt.Errorf("zlib: %w", err)
	}
	if len(out) > maxCOSELen {
		return nil, fmt.Errorf("zlib: inflates to more than %d bytes", maxCOSELen)
	}
	return out, nil
}

// otherVersion reports whether text starts like an IKD token of another version, "IKD<n>:".
func otherVersion(text string) (string, bool) {
	rest, ok := strings.CutPrefix(text, "IKD")
	if !ok {
		return "", false
	}
	digits, _, found := strings.Cut(rest, ":")
	if !found || digits == "" || len(digits) > 3 || strings.Trim(digits, "0123456789") != "" {
		return "", false
	}
	return digits, true
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "open"
	}
	return t.UTC().Format(time.RFC3339)
}
