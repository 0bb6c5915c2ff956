package token

import (
	"context"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/ikd-field/ikd/kiosk/token/base45"
)

// privateLabel is a header label from COSE's private-use range (below -65536): what an issuer
// would pick for a rule of its own, such as "valid only in kecamatan X".
const privateLabel = -70000

// critHeader is the usual protected header plus crit and the extra parameters in extra.
func critHeader(crit any, extra map[any]any) map[any]any {
	h := map[any]any{cose.HeaderLabelAlgorithm: int64(cose.AlgorithmEdDSA), cose.HeaderLabelKeyID: []byte(kid),
		cose.HeaderLabelCritical: crit}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

// signRaw builds and signs a COSE_Sign1 by hand (RFC 9052 §4.4), so tests can make headers
// go-cose refuses to encode, such as a malformed crit.
func signRaw(t testing.TB, key ed25519.PrivateKey, protected, unprotected map[any]any, payload any) string {
	t.Helper()
	p, err := claimsEnc.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	ph, err := claimsEnc.Marshal(protected)
	if err != nil {
		t.Fatal(err)
	}
	toBeSigned, err := claimsEnc.Marshal([]any{"Signature1", ph, []byte{}, p})
	if err != nil {
		t.Fatal(err)
	}
	if unprotected == nil {
		unprotected = map[any]any{}
	}
	msg, err := claimsEnc.Marshal(cbor.Tag{Number: 18, Content: []any{ph, unprotected, p, ed25519.Sign(key, toBeSigned)}})
	if err != nil {
		t.Fatal(err)
	}
	return Prefix + base45.Encode(msg)
}

// TestCriticalHeader plays an issuer that marks a header critical: only alg and kid may be
// named, and a malformed crit is refused too. Every token is signed by the trusted key, so
// the refusal is the crit's, not the signature's.
func TestCriticalHeader(t *testing.T) {
	now := issuedAt.Add(1)
	tests := []struct {
		name        string
		protected   map[any]any
		unprotected map[any]any
		want        error // nil: accepted
	}{
		{"KnownLabelsAccepted", critHeader([]any{1, 4}, nil), nil, nil},
		{"UnknownIntegerLabel", critHeader([]any{privateLabel}, map[any]any{privateLabel: "3201"}), nil, ErrCriticalHeader},
		{"UnknownAmongKnown", critHeader([]any{4, 99}, map[any]any{99: true}), nil, ErrCriticalHeader},
		{"UnknownTextLabel", critHeader([]any{"ikd-area"}, map[any]any{"ikd-area": "3201"}), nil, ErrCriticalHeader},
		{"CritNamesItself", critHeader([]any{2}, nil), nil, ErrCriticalHeader},
		{"LabelAbsent", critHeader([]any{privateLabel}, nil), nil, ErrCriticalHeader},
		{"NotAnArray", critHeader(int64(privateLabel), map[any]any{privateLabel: 1}), nil, ErrCriticalHeader},
		{"MapNotArray", critHeader(map[any]any{1: 1}, nil), nil, ErrCriticalHeader},
		{"EmptyArray", critHeader([]any{}, nil), nil, ErrCriticalHeader},
		{"LabelOfWrongType", critHeader([]any{[]byte{1}}, nil), nil, ErrCriticalHeader},
		{"InUnprotectedHeader", header(kid), map[any]any{2: []any{1}}, ErrCriticalHeader},
	}
	v := NewVerifier(trusted())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := signRaw(t, regKey, tt.protected, tt.unprotected, typicalWire())
			tok, err := v.Verify(context.Background(), text, now)
			if tt.want == nil {
				if err != nil || tok.KeyID != kid {
					t.Fatalf("Verify = %+v, %v; want accepted", tok, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %+v, %v; want token.critical_header", tok, err)
			}
		})
	}
}

// TestCriticalHeaderCheckedBeforeKeyLookup: an unknown crit is refused as such even when the
// key is not trusted, so the officer is not sent to sync for a token no update of keys fixes.
func TestCriticalHeaderCheckedBeforeKeyLookup(t *testing.T) {
	text := signRaw(t, testKey("other"), critHeader([]any{privateLabel}, map[any]any{privateLabel: 1}), nil, typicalWire())
	if _, err := NewVerifier(trusted()).Verify(context.Background(), text, issuedAt); !errors.Is(err, ErrCriticalHeader) {
		t.Fatalf("Verify: %v; want token.critical_header", err)
	}
}

// The crit golden vector: the golden key and claims with crit [-70000] and -70000: "3201" in
// the protected header, as an issuer restricting a token to one area would sign it. It must
// stay refused. Regenerate with: go test ./kiosk/token -run Golden -update
const goldenCritFile = "v1-crit-unknown.txt"

func TestGoldenCriticalHeaderRefused(t *testing.T) {
	protected := cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA, cose.HeaderLabelKeyID: []byte(kid),
		cose.HeaderLabelCritical: []any{int64(privateLabel)}, int64(privateLabel): "3201"}
	text := signWith(t, regKey, protected, typicalWire())
	want := matchGolden(t, goldenCritFile, text, "crit vector changed")
	if _, err := NewVerifier(trusted()).Verify(context.Background(), want, issuedAt); !errors.Is(err, ErrCriticalHeader) {
		t.Fatalf("golden crit token: %v; want token.critical_header", err)
	}
}
