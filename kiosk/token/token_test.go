package token

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/encoder"
	"github.com/veraison/go-cose"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/kiosktest"
	"github.com/ikd-field/ikd/kiosk/token/base45"
)

const kid = "reg-2026-11"

var regKey = testKey("registry 2026-11")

func trusted() *kiosktest.TrustStore {
	return kiosktest.Keyring(kiosk.RegistryKey{KeyID: kid, PublicKey: regKey.Public().(ed25519.PublicKey)})
}

func TestSignVerifyRoundTrip(t *testing.T) {
	c := typicalClaims()
	text, err := mustSigner(kid, regKey).Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := NewVerifier(trusted()).Verify(context.Background(), text, issuedAt.Add(time.Minute))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := kiosk.Token{KeyID: kid, NIK: c.NIK, RegistrationID: c.RegistrationID, MaskedEmail: c.MaskedEmail,
		MaskedPhone: c.MaskedPhone, IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt}
	if got != want {
		t.Fatalf("Verify = %+v\nwant     %+v", got, want)
	}
}

func TestRegistrationIDForms(t *testing.T) {
	for name, id := range map[string]string{
		"CanonicalUUID":   "0190f3b2-7c1e-7a4b-9c3d-5e6f708192a3",
		"UppercaseUUID":   "0190F3B2-7C1E-7A4B-9C3D-5E6F708192A3", // must come back as written
		"UUIDWithoutDash": "0190f3b27c1e7a4b9c3d5e6f708192a3",
		"OtherText":       "REG-2026-000123",
	} {
		t.Run(name, func(t *testing.T) {
			c := typicalClaims()
			c.RegistrationID = id
			text, err := mustSigner(kid, regKey).Sign(c)
			if err != nil {
				t.Fatal(err)
			}
			got, err := NewVerifier(trusted()).Verify(context.Background(), text, issuedAt)
			if err != nil || got.RegistrationID != id {
				t.Fatalf("Verify = %q, %v; want %q", got.RegistrationID, err, id)
			}
		})
	}
}

// TestTypicalTokenFitsQRBudget holds the format to DESIGN.md §4: at most 300 characters, and a
// QR code of version 9 (53×53 modules) at error correction M for a typical token.
func TestTypicalTokenFitsQRBudget(t *testing.T) {
	text, err := mustSigner(kid, regKey).Sign(typicalClaims())
	if err != nil {
		t.Fatal(err)
	}
	if len(text) > 300 {
		t.Errorf("typical token is %d characters, budget 300", len(text))
	}
	q, err := encoder.Encoder_encodeWithoutHint(text, decoder.ErrorCorrectionLevel_M)
	if err != nil {
		t.Fatal(err)
	}
	if v := q.GetVersion().GetVersionNumber(); v > 9 || q.GetMode() != decoder.Mode_ALPHANUMERIC {
		t.Errorf("typical token needs QR version %d in mode %v; want ≤ 9, alphanumeric", v, q.GetMode())
	}
}

// TestLargestTokenVerifies: with every field at its limit the token stays under the
// verifier's length cap, so the signer never makes a token the verifier refuses as too long.
func TestLargestTokenVerifies(t *testing.T) {
	longKid := strings.Repeat("k", maxIDLen)
	c := typicalClaims()
	c.RegistrationID = strings.Repeat("R", maxIDLen)
	c.MaskedEmail = strings.Repeat("e", maxMaskedLen)
	c.MaskedPhone = strings.Repeat("9", maxMaskedLen)
	c.ExpiresAt = c.IssuedAt.Add(DefaultMaxLifetime)
	text, err := mustSigner(longKid, regKey).Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	store := kiosktest.Keyring(kiosk.RegistryKey{KeyID: longKid, PublicKey: regKey.Public().(ed25519.PublicKey)})
	if _, err := NewVerifier(store).Verify(context.Background(), text, issuedAt); err != nil {
		t.Fatalf("largest token (%d characters) refused: %v", len(text), err)
	}
	t.Logf("largest token: %d characters (cap %d)", len(text), maxTextLen)
}

func TestVerifyAcceptsZlibForm(t *testing.T) {
	plain, err := mustSigner(kid, regKey).Sign(typicalClaims())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base45.Decode(strings.TrimPrefix(plain, Prefix))
	if isZlib(raw) {
		t.Fatal("the signer compressed a token")
	}
	z := mustDeflate(t, raw)
	if len(z) <= len(raw) {
		t.Errorf("zlib made a typical token shorter (%d → %d bytes); revisit the signer's choice", len(raw), len(z))
	}
	got, err := NewVerifier(trusted()).Verify(context.Background(), Prefix+base45.Encode(z), issuedAt)
	if err != nil || got.RegistrationID != typicalClaims().RegistrationID {
		t.Fatalf("zlib form: %+v, %v", got, err)
	}
}

func TestSignRejects(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Claims)
	}{
		{"InvalidNIK", func(c *Claims) { c.NIK = "3201014501900000" }},
		{"NoRegistrationID", func(c *Claims) { c.RegistrationID = "" }},
		{"LongRegistrationID", func(c *Claims) { c.RegistrationID = strings.Repeat("x", 65) }},
		{"ControlCharacterInEmail", func(c *Claims) { c.MaskedEmail = "b***i@gmail.com\x1b[2J" }},
		{"ExpiryBeforeIssue", func(c *Claims) { c.ExpiresAt = c.IssuedAt.Add(-time.Second) }},
		{"ExpiryEqualsIssue", func(c *Claims) { c.ExpiresAt = c.IssuedAt }},
		{"NoIssueTime", func(c *Claims) { c.IssuedAt = time.Unix(0, 0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := typicalClaims()
			tt.modify(&c)
			if text, err := mustSigner(kid, regKey).Sign(c); err == nil {
				t.Fatalf("Sign succeeded: %s", text)
			}
		})
	}
}

func TestNewSignerRejects(t *testing.T) {
	if _, err := NewSigner("", regKey); err == nil {
		t.Error("empty key id accepted")
	}
	if _, err := NewSigner("reg\n1", regKey); err == nil {
		t.Error("key id with a line break accepted")
	}
	if _, err := NewSigner(kid, regKey[:10]); err == nil {
		t.Error("short private key accepted")
	}
}

// signWith builds a token by hand, so tests can make tokens the Signer refuses to make.
func signWith(t *testing.T, key []byte, protected cose.ProtectedHeader, payload any) string {
	t.Helper()
	p, err := claimsEnc.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cose.NewSigner(cose.AlgorithmEdDSA, ed25519.PrivateKey(key))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := cose.Sign1(nil, s, cose.Headers{Protected: protected}, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return Prefix + base45.Encode(msg)
}

func header(k string) cose.ProtectedHeader {
	return cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA, cose.HeaderLabelKeyID: []byte(k)}
}

func typicalWire() wireClaims {
	return wireClaims{Version: 1, NIK: 3201014501900001, RegistrationID: "0190f3b2-7c1e-7a4b-9c3d-5e6f708192a3",
		MaskedEmail: "b***i@gmail.com", MaskedPhone: "0812****789",
		IssuedAt: issuedAt.Unix(), ExpiresAt: issuedAt.Add(10 * time.Minute).Unix()}
}

func TestVerifyErrors(t *testing.T) {
	good, err := mustSigner(kid, regKey).Sign(typicalClaims())
	if err != nil {
		t.Fatal(err)
	}
	goodRaw, _ := base45.Decode(strings.TrimPrefix(good, Prefix))
	now := issuedAt.Add(time.Minute)
	wire := func(f func(*wireClaims)) wireClaims { w := typicalWire(); f(&w); return w }

	tests := []struct {
		name string
		text string
		now  time.Time
		want *kiosk.Error
	}{
		{"Empty", "", now, ErrNotIKD},
		{"URL", "https://example.com/ikd", now, ErrNotIKD},
		{"EUCovidCertificate", "HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH", now, ErrNotIKD},
		{"LowercasePrefix", "ikd1:" + strings.TrimPrefix(good, Prefix), now, ErrNotIKD},
		{"NewerFormat", "IKD2:" + strings.TrimPrefix(good, Prefix), now, ErrUnsupportedVersion},
		{"PrefixOnly", Prefix, now, ErrDamaged},
		{"BadBase45Character", good[:40] + "#" + good[41:], now, ErrDamaged},
		{"LowercaseBase45", Prefix + strings.ToLower(strings.TrimPrefix(good, Prefix)), now, ErrDamaged},
		{"TruncatedByOneCharacter", good[:len(good)-1], now, ErrDamaged},
		{"TruncatedByOneGroup", good[:len(good)-3], now, ErrDamaged},
		{"TruncatedToHalf", good[:len(Prefix)+120], now, ErrDamaged},
		{"TooLong", good + strings.Repeat("000", 200), now, ErrDamaged},
		{"NotCOSE", Prefix + base45.Encode([]byte("hello, world")), now, ErrDamaged},
		{"UntaggedCOSE", Prefix + base45.Encode(goodRaw[1:]), now, ErrDamaged},
		{"ZlibGarbage", Prefix + base45.Encode([]byte{0x78, 0xDA, 1, 2, 3, 4}), now, ErrDamaged},
		{"ZlibBomb", Prefix + base45.Encode(mustDeflate(t, bytes.Repeat([]byte{0}, 100000))), now, ErrDamaged},
		{"NoKeyID", signWith(t, regKey, cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA}, typicalWire()), now, ErrDamaged},
		{"UnknownKey", signWith(t, testKey("other"), header("reg-1999-01"), typicalWire()), now, ErrUnknownKey},
		{"BadSignature", signWith(t, testKey("forger"), header(kid), typicalWire()), now, ErrBadSignature},
		{"AlteredClaims", flipPayloadByte(t, goodRaw), now, ErrBadSignature},
		{"ClaimsNotAMap", signWith(t, regKey, header(kid), []int{1, 2, 3}), now, ErrDamaged},
		{"ClaimWrongType", signWith(t, regKey, header(kid), map[int]any{1: 1, 2: "3201014501900001"}), now, ErrDamaged},
		{"ClaimsVersion2", signWith(t, regKey, header(kid), wire(func(w *wireClaims) { w.Version = 2 })), now, ErrUnsupportedVersion},
		{"NoRegistrationID", signWith(t, regKey, header(kid), wire(func(w *wireClaims) { w.RegistrationID = "" })), now, ErrDamaged},
		{"NoIssueTime", signWith(t, regKey, header(kid), wire(func(w *wireClaims) { w.IssuedAt = 0 })), now, ErrDamaged},
		{"ExpiryBeforeIssue", signWith(t, regKey, header(kid), wire(func(w *wireClaims) { w.ExpiresAt = w.IssuedAt - 1 })), now, ErrDamaged},
		{"InvalidNIKSerial", signWith(t, regKey, header(kid), wire(func(w *wireClaims) { w.NIK = 3201014501900000 })), now, ErrNIKInvalid},
		{"NIKTooShort", signWith(t, regKey, header(kid), wire(func(w *wireClaims) { w.NIK = 320101450190 })), now, ErrNIKInvalid},
		{"LifetimeTooLong", signWith(t, regKey, header(kid), wire(func(w *wireClaims) { w.ExpiresAt = w.IssuedAt + 31*60 })), now, ErrLifetimeTooLong},
		{"Expired", good, issuedAt.Add(10*time.Minute + DefaultClockSkew), ErrExpired},
		{"ExpiredYesterday", good, issuedAt.Add(24 * time.Hour), ErrExpired},
		{"NotYetValid", good, issuedAt.Add(-DefaultClockSkew - time.Second), ErrNotYetValid},
		{"KioskClockYearsBehind", good, issuedAt.AddDate(-3, 0, 0), ErrNotYetValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewVerifier(trusted()).Verify(context.Background(), tt.text, tt.now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %+v, %v; want %s", got, err, tt.want.Code)
			}
			var ke *kiosk.Error
			if !errors.As(err, &ke) || ke.Msg.ID == "" || ke.Msg.EN == "" {
				t.Fatalf("error %v carries no officer message", err)
			}
			if got != (kiosk.Token{}) {
				t.Fatalf("a failed Verify returned a token: %+v", got)
			}
		})
	}
}

func TestInvalidNIKKeepsCause(t *testing.T) {
	w := typicalWire()
	w.NIK = 3201014513900001 // month 13
	_, err := NewVerifier(trusted()).Verify(context.Background(), signWith(t, regKey, header(kid), w), issuedAt)
	if !errors.Is(err, ErrNIKInvalid) || !errors.Is(err, kiosk.ErrNIKBirthDate) {
		t.Fatalf("Verify: %v; want token.nik_invalid wrapping nik.birth_date", err)
	}
}

func TestExpiredMessageTellsOfficerWhatToDo(t *testing.T) {
	good, _ := mustSigner(kid, regKey).Sign(typicalClaims())
	_, err := NewVerifier(trusted()).Verify(context.Background(), good, issuedAt.Add(time.Hour))
	if got := kiosk.OfficerMessage(err, kiosk.LangID); got != "QR kedaluwarsa, minta warga membuat ulang QR di aplikasi IKD." {
		t.Fatalf("officer message %q", got)
	}
}

func TestTrustStoreFailureIsNotATokenError(t *testing.T) {
	good, _ := mustSigner(kid, regKey).Sign(typicalClaims())
	dbErr := errors.New("database is locked")
	_, err := NewVerifier(&kiosktest.TrustStore{RegistryKeyFn: func(context.Context, string) (kiosk.RegistryKey, error) {
		return kiosk.RegistryKey{}, dbErr
	}}).Verify(context.Background(), good, issuedAt)
	if !errors.Is(err, dbErr) || errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Verify: %v; want the store's error, not unknown key", err)
	}
}

func TestCorruptTrustStoreKey(t *testing.T) {
	good, _ := mustSigner(kid, regKey).Sign(typicalClaims())
	store := kiosktest.Keyring(kiosk.RegistryKey{KeyID: kid, PublicKey: []byte{1, 2, 3}})
	_, err := NewVerifier(store).Verify(context.Background(), good, issuedAt)
	var ke *kiosk.Error
	if err == nil || errors.As(err, &ke) {
		t.Fatalf("Verify: %v; want an operator error (bad stored key), not a token error", err)
	}
}

func TestKeyRotation(t *testing.T) {
	oldKey, newKey := testKey("registry 2026-05"), testKey("registry 2026-11")
	rotation := issuedAt.Add(-time.Hour) // the new key took over an hour before issuedAt
	store := kiosktest.Keyring(
		kiosk.RegistryKey{KeyID: "reg-2026-05", PublicKey: oldKey.Public().(ed25519.PublicKey),
			NotBefore: issuedAt.AddDate(0, -6, 0), NotAfter: issuedAt.Add(24 * time.Hour)},
		kiosk.RegistryKey{KeyID: "reg-2026-11", PublicKey: newKey.Public().(ed25519.PublicKey), NotBefore: rotation},
		kiosk.RegistryKey{KeyID: "reg-2025-11", PublicKey: testKey("registry 2025-11").Public().(ed25519.PublicKey),
			NotBefore: issuedAt.AddDate(-1, 0, 0), NotAfter: issuedAt.AddDate(0, -6, 0)},
	)
	v := NewVerifier(store)
	sign := func(k string, key []byte, iat time.Time) string {
		c := typicalClaims()
		c.IssuedAt, c.ExpiresAt = iat, iat.Add(10*time.Minute)
		text, err := mustSigner(k, key).Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	t.Run("NewKeyVerifies", func(t *testing.T) {
		if _, err := v.Verify(context.Background(), sign("reg-2026-11", newKey, issuedAt), issuedAt); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OlderStillValidKeyVerifies", func(t *testing.T) {
		if _, err := v.Verify(context.Background(), sign("reg-2026-05", oldKey, issuedAt), issuedAt); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("RetiredKeyRefused", func(t *testing.T) {
		_, err := v.Verify(context.Background(), sign("reg-2025-11", testKey("registry 2025-11"), issuedAt), issuedAt)
		if !errors.Is(err, ErrKeyNotValid) {
			t.Fatalf("Verify: %v; want %s", err, ErrKeyNotValid.Code)
		}
	})
	t.Run("NewKeyBeforeItsStart", func(t *testing.T) {
		iat := rotation.Add(-time.Minute)
		_, err := v.Verify(context.Background(), sign("reg-2026-11", newKey, iat), iat)
		if !errors.Is(err, ErrKeyNotValid) {
			t.Fatalf("Verify: %v; want %s", err, ErrKeyNotValid.Code)
		}
	})
	t.Run("OldKeyAfterItsEnd", func(t *testing.T) {
		iat := issuedAt.Add(25 * time.Hour)
		_, err := v.Verify(context.Background(), sign("reg-2026-05", oldKey, iat), iat)
		if !errors.Is(err, ErrKeyNotValid) {
			t.Fatalf("Verify: %v; want %s", err, ErrKeyNotValid.Code)
		}
	})
	t.Run("KeySwappedUnderSameID", func(t *testing.T) {
		_, err := v.Verify(context.Background(), sign("reg-2026-11", oldKey, issuedAt), issuedAt)
		if !errors.Is(err, ErrBadSignature) {
			t.Fatalf("Verify: %v; want %s", err, ErrBadSignature.Code)
		}
	})
}

func TestClockSkewTolerance(t *testing.T) {
	text, _ := mustSigner(kid, regKey).Sign(typicalClaims()) // valid issuedAt … issuedAt+10m
	exp := issuedAt.Add(10 * time.Minute)
	tests := []struct {
		name string
		skew time.Duration
		now  time.Time
		want *kiosk.Error // nil: accepted
	}{
		{"KioskSlightlyBehindAccepted", 2 * time.Minute, issuedAt.Add(-119 * time.Second), nil},
		{"KioskBehindBeyondTolerance", 2 * time.Minute, issuedAt.Add(-121 * time.Second), ErrNotYetValid},
		{"JustAfterExpiryWithinTolerance", 2 * time.Minute, exp.Add(119 * time.Second), nil},
		{"AtExpiryPlusTolerance", 2 * time.Minute, exp.Add(2 * time.Minute), ErrExpired},
		{"NoToleranceAtExpiry", 0, exp, ErrExpired},
		{"NoToleranceOneSecondBeforeExpiry", 0, exp.Add(-time.Second), nil},
		{"NoToleranceBeforeIssue", 0, issuedAt.Add(-time.Second), ErrNotYetValid},
		{"WideTolerance", 10 * time.Minute, exp.Add(9 * time.Minute), nil},
		{"NegativeToleranceMeansNone", -time.Minute, exp, ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewVerifier(trusted(), WithClockSkew(tt.skew)).Verify(context.Background(), text, tt.now)
			if tt.want == nil && err != nil {
				t.Fatalf("Verify: %v; want accepted", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify: %v; want %s", err, tt.want.Code)
			}
		})
	}
}

func TestMaxLifetime(t *testing.T) {
	c := typicalClaims()
	c.ExpiresAt = c.IssuedAt.Add(45 * time.Minute)
	text, err := mustSigner(kid, regKey).Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewVerifier(trusted()).Verify(context.Background(), text, issuedAt); !errors.Is(err, ErrLifetimeTooLong) {
		t.Fatalf("default policy: %v; want %s", err, ErrLifetimeTooLong.Code)
	}
	if _, err := NewVerifier(trusted(), WithMaxLifetime(time.Hour)).Verify(context.Background(), text, issuedAt); err != nil {
		t.Fatalf("one-hour policy: %v", err)
	}
}

func TestTrailingLineBreakIgnored(t *testing.T) {
	text, _ := mustSigner(kid, regKey).Sign(typicalClaims())
	if _, err := NewVerifier(trusted()).Verify(context.Background(), text+"\r\n", issuedAt); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownClaimIgnored(t *testing.T) {
	w := map[int]any{1: 1, 2: uint64(3201014501900001), 3: "REG-1", 4: issuedAt.Unix() + 600, 5: "b***i@gmail.com",
		6: issuedAt.Unix(), 7: "0812****789", 99: "added in a later minor version"}
	if _, err := NewVerifier(trusted()).Verify(context.Background(), signWith(t, regKey, header(kid), w), issuedAt); err != nil {
		t.Fatal(err)
	}
}

func flipPayloadByte(t *testing.T, raw []byte) string {
	t.Helper()
	var msg cose.Sign1Message
	if err := msg.UnmarshalCBOR(raw); err != nil {
		t.Fatal(err)
	}
	msg.Payload[len(msg.Payload)-1] ^= 0x01 // a digit of the masked phone
	b, err := msg.MarshalCBOR()
	if err != nil {
		t.Fatal(err)
	}
	return Prefix + base45.Encode(b)
}

func mustDeflate(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
