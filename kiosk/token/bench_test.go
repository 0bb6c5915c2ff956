package token

import (
	"context"
	"testing"
	"time"
)

func BenchmarkSign(b *testing.B) {
	s := mustSigner(kid, regKey)
	c := typicalClaims()
	for b.Loop() {
		if _, err := s.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	text, err := mustSigner(kid, regKey).Sign(typicalClaims())
	if err != nil {
		b.Fatal(err)
	}
	v := NewVerifier(trusted())
	ctx, now := context.Background(), issuedAt.Add(time.Minute)
	for b.Loop() {
		if _, err := v.Verify(ctx, text, now); err != nil {
			b.Fatal(err)
		}
	}
}
