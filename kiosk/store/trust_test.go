package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

func TestTrustStore(t *testing.T) {
	ctx := context.Background()
	s, _ := mustCreate(t, testOptions())
	pub, _, _ := ed25519.GenerateKey(nil)
	k := kiosk.RegistryKey{KeyID: "reg-2026-01", PublicKey: pub,
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.AddRegistryKey(ctx, "sup1", k); err != nil {
		t.Fatal(err)
	}

	t.Run("Lookup", func(t *testing.T) {
		got, err := s.RegistryKey(ctx, k.KeyID)
		if err != nil {
			t.Fatal(err)
		}
		if got.KeyID != k.KeyID || !bytes.Equal(got.PublicKey, pub) || !got.NotBefore.Equal(k.NotBefore) || !got.NotAfter.IsZero() {
			t.Errorf("key = %+v", got)
		}
	})
	t.Run("UnknownKey", func(t *testing.T) {
		if _, err := s.RegistryKey(ctx, "nope"); !errors.Is(err, kiosk.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("RetireKeepsKey", func(t *testing.T) {
		k2 := k
		k2.NotAfter = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		if err := s.AddRegistryKey(ctx, "sup1", k2); err != nil {
			t.Fatal(err)
		}
		got, _ := s.RegistryKey(ctx, k.KeyID)
		if !got.NotAfter.Equal(k2.NotAfter) {
			t.Errorf("not_after = %v", got.NotAfter)
		}
	})
	t.Run("IDReusedForOtherKey", func(t *testing.T) {
		other, _, _ := ed25519.GenerateKey(nil)
		err := s.AddRegistryKey(ctx, "sup1", kiosk.RegistryKey{KeyID: k.KeyID, PublicKey: other})
		if !errors.Is(err, ErrKeyConflict) {
			t.Errorf("err = %v, want ErrKeyConflict", err)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		for _, bad := range []kiosk.RegistryKey{
			{KeyID: "", PublicKey: pub},
			{KeyID: "short", PublicKey: pub[:31]},
			{KeyID: "window", PublicKey: pub, NotBefore: k.NotBefore, NotAfter: k.NotBefore},
		} {
			if err := s.AddRegistryKey(ctx, "sup1", bad); !errors.Is(err, ErrInvalidRegistryKey) {
				t.Errorf("%+v: err = %v, want ErrInvalidRegistryKey", bad, err)
			}
		}
	})
	t.Run("List", func(t *testing.T) {
		keys, err := s.RegistryKeys(ctx)
		if err != nil || len(keys) != 1 {
			t.Errorf("keys = %v, %v", keys, err)
		}
	})
}
