package token

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk/token/base45"
)

// FuzzVerify feeds arbitrary text to the verifier: it must never panic, and whatever it
// accepts must be a well-formed token signed by the trusted key.
func FuzzVerify(f *testing.F) {
	golden, err := os.ReadFile(goldenPath(f, goldenFile))
	if err != nil {
		f.Fatal(err)
	}
	text := strings.TrimSpace(string(golden))
	f.Add(text)
	for _, n := range []int{len(text) - 1, len(text) - 2, len(text) - 3, len(text) / 2, len(Prefix) + 3, len(Prefix)} {
		f.Add(text[:n])
	}
	raw, _ := base45.Decode(strings.TrimPrefix(text, Prefix))
	f.Add(Prefix + base45.Encode(mustDeflate(f, raw)))
	f.Add("IKD2:" + strings.TrimPrefix(text, Prefix))
	f.Add("HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N")
	v := NewVerifier(trusted())
	now := issuedAt.Add(5 * time.Minute)
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := v.Verify(context.Background(), s, now)
		if err != nil {
			return
		}
		if tok.KeyID != kid || tok.NIK == "" || tok.RegistrationID == "" || !tok.ExpiresAt.After(tok.IssuedAt) {
			t.Fatalf("accepted a malformed token: %+v", tok)
		}
	})
}

// FuzzVerifyCOSE fuzzes below the text layer: arbitrary bytes are base45-encoded behind the
// prefix, so the fuzzer spends its time in the zlib, COSE and claims decoding.
func FuzzVerifyCOSE(f *testing.F) {
	golden, err := os.ReadFile(goldenPath(f, goldenFile))
	if err != nil {
		f.Fatal(err)
	}
	raw, err := base45.Decode(strings.TrimPrefix(strings.TrimSpace(string(golden)), Prefix))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	for _, n := range []int{len(raw) - 1, len(raw) - 65, len(raw) / 2, 1} {
		f.Add(raw[:n])
	}
	f.Add(mustDeflate(f, raw))
	v := NewVerifier(trusted())
	now := issuedAt.Add(5 * time.Minute)
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := v.Verify(context.Background(), Prefix+base45.Encode(b), now)
		if err != nil {
			return
		}
		if tok.KeyID != kid || tok.NIK == "" || tok.RegistrationID == "" || !tok.ExpiresAt.After(tok.IssuedAt) {
			t.Fatalf("accepted a malformed token: %+v", tok)
		}
	})
}
