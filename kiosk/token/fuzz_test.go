package token

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/veraison/go-cose"

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
	// Crit headers: the refused golden vector, and known labels only, which verifies.
	crit, err := os.ReadFile(goldenPath(f, goldenCritFile))
	if err != nil {
		f.Fatal(err)
	}
	for _, text := range []string{strings.TrimSpace(string(crit)), signRaw(f, regKey, critHeader([]any{1, 4}, nil), nil, typicalWire())} {
		b, err := base45.Decode(strings.TrimPrefix(text, Prefix))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	v := NewVerifier(trusted())
	now := issuedAt.Add(5 * time.Minute)
	f.Fuzz(func(t *testing.T, b []byte) {
		text := Prefix + base45.Encode(b)
		tok, err := v.Verify(context.Background(), text, now)
		if err != nil {
			return
		}
		if tok.KeyID != kid || tok.NIK == "" || tok.RegistrationID == "" || !tok.ExpiresAt.After(tok.IssuedAt) {
			t.Fatalf("accepted a malformed token: %+v", tok)
		}
		msg, err := parse(text)
		if err != nil {
			t.Fatalf("accepted a token parse refuses: %v", err)
		}
		if crit, ok := msg.Headers.Protected[cose.HeaderLabelCritical]; ok {
			for _, l := range crit.([]any) { // go-cose guarantees an array of int or text labels
				if n, isInt := l.(int64); !isInt || !understoodHeaders[n] {
					t.Fatalf("accepted a token with critical header %v", l)
				}
			}
		}
	})
}
