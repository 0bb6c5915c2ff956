package token

import (
	"crypto/ed25519"
	"crypto/sha256"
	"time"
)

// testKey derives a fixed key from name, so vectors are reproducible.
func testKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("ikd test key " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func mustSigner(kid string, key ed25519.PrivateKey) *Signer {
	s, err := NewSigner(kid, key)
	if err != nil {
		panic(err)
	}
	return s
}

// issuedAt is the fixed issue time of test tokens.
var issuedAt = time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)

// typicalClaims are the claims of a typical token: a UUID registration id and masked contact
// details of usual length.
func typicalClaims() Claims {
	return Claims{
		NIK:            "3201014501900001",
		RegistrationID: "0190f3b2-7c1e-7a4b-9c3d-5e6f708192a3",
		MaskedEmail:    "b***i@gmail.com",
		MaskedPhone:    "0812****789",
		IssuedAt:       issuedAt,
		ExpiresAt:      issuedAt.Add(10 * time.Minute),
	}
}
