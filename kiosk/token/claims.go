package token

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/uuid"

	"github.com/ikd-field/ikd/kiosk"
)

// Prefix starts every version-1 token text.
const Prefix = "IKD1:"

// formatVersion is the ver claim of tokens this package makes and accepts.
const formatVersion = 1

// Field limits. They keep the token small and the officer's screen sane; a token that breaks
// them is damaged, not merely unusual.
const (
	maxIDLen     = 64   // registration id, bytes
	maxMaskedLen = 64   // masked e-mail or phone, bytes
	maxTextLen   = 800  // whole token text; typical 247 characters, largest possible 559
	maxCOSELen   = 1024 // inflated zlib form
)

// Claims are what the registry signs into a token.
type Claims struct {
	NIK            kiosk.NIK
	RegistrationID string
	MaskedEmail    string // already masked, see MaskEmail
	MaskedPhone    string // already masked, see MaskPhone
	IssuedAt       time.Time
	ExpiresAt      time.Time
}

// wireClaims is the CBOR payload; see the package documentation for the key table.
type wireClaims struct {
	Version        uint64 `cbor:"1,keyasint"`
	NIK            uint64 `cbor:"2,keyasint"`
	RegistrationID regID  `cbor:"3,keyasint"`
	ExpiresAt      int64  `cbor:"4,keyasint"`
	MaskedEmail    string `cbor:"5,keyasint"`
	IssuedAt       int64  `cbor:"6,keyasint"`
	MaskedPhone    string `cbor:"7,keyasint"`
}

// nikNumber returns the NIK's 16 digits as the integer the token carries: 9 bytes of CBOR
// instead of 17. A NIK never starts with 0 (province codes start at 11), so no digit is lost.
func nikNumber(n kiosk.NIK) (uint64, error) {
	return strconv.ParseUint(string(n), 10, 64)
}

// nikText is the inverse of nikNumber; a number of other than 16 digits fails kiosk.ParseNIK.
func nikText(n uint64) string { return strconv.FormatUint(n, 10) }

// regID is a registration id. On the wire a canonical UUID text ("0190f3b2-7c1e-…", lower
// case, as the registry issues them) travels as its 16 bytes, which saves 20 bytes, 30 QR
// characters and, for a typical token, one QR version; any other id travels as text.
type regID string

func (r regID) MarshalCBOR() ([]byte, error) {
	if u, err := uuid.Parse(string(r)); err == nil && u.String() == string(r) {
		return claimsEnc.Marshal(u[:])
	}
	return claimsEnc.Marshal(string(r))
}

func (r *regID) UnmarshalCBOR(data []byte) error {
	var v any
	if err := claimsDec.Unmarshal(data, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case string:
		*r = regID(v)
	case []byte:
		u, err := uuid.FromBytes(v)
		if err != nil {
			return fmt.Errorf("registration id: %w", err)
		}
		*r = regID(u.String())
	default:
		return fmt.Errorf("registration id is a %T, not text or a 16-byte UUID", v)
	}
	return nil
}

var (
	claimsEnc cbor.EncMode
	claimsDec cbor.DecMode
)

func init() {
	var err error
	// Core deterministic encoding: the same claims always give the same bytes (golden tests).
	if claimsEnc, err = cbor.CoreDetEncOptions().EncMode(); err != nil {
		panic(err) // static options; cannot fail at run time
	}
	claimsDec, err = cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		MaxNestedLevels:  4,
		MaxArrayElements: 16,
		MaxMapPairs:      32,
	}.DecMode()
	if err != nil {
		panic(err) // static options; cannot fail at run time
	}
}

// check reports why c cannot be in a token; the signer and the verifier share it.
func (c wireClaims) check() error {
	switch {
	case c.NIK == 0:
		return errors.New("no NIK claim")
	case c.RegistrationID == "":
		return errors.New("no registration id claim")
	case c.IssuedAt == 0:
		return errors.New("no issued-at claim")
	case c.ExpiresAt == 0:
		return errors.New("no expires-at claim")
	case c.ExpiresAt <= c.IssuedAt:
		return fmt.Errorf("expires-at %d is not after issued-at %d", c.ExpiresAt, c.IssuedAt)
	}
	if err := checkText("registration id", string(c.RegistrationID), maxIDLen); err != nil {
		return err
	}
	if err := checkText("masked e-mail", c.MaskedEmail, maxMaskedLen); err != nil {
		return err
	}
	return checkText("masked phone", c.MaskedPhone, maxMaskedLen)
}

// checkText keeps control characters (which could garble the officer's screen) and
// oversized values out of the fields shown to the officer.
func checkText(what, s string, maxLen int) error {
	if len(s) > maxLen {
		return fmt.Errorf("%s is %d bytes, more than %d", what, len(s), maxLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", what)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s contains control character %U", what, r)
		}
	}
	return nil
}
