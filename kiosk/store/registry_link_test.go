package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"
)

func TestRegistryURL(t *testing.T) {
	ctx := context.Background()
	s, path := mustCreate(t, testOptions())
	if u, err := s.RegistryURL(ctx); err != nil || u != "" {
		t.Fatalf("before enrollment: %q %v", u, err)
	}
	for _, bad := range []string{"", "registry.example.id", "ftp://registry.example.id", "http://", "::"} {
		if err := s.SetRegistryURL(ctx, bad); err == nil {
			t.Errorf("SetRegistryURL(%q) accepted", bad)
		}
	}
	if err := s.SetRegistryURL(ctx, "https://registry.example.id:8443"); err != nil {
		t.Fatal(err)
	}
	if u, err := s.RegistryURL(ctx); err != nil || u != "https://registry.example.id:8443" {
		t.Fatalf("after enrollment: %q %v", u, err)
	}
	s.Close()

	// Pointed elsewhere by someone without the unlock secret.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE meta SET value = CAST(substr(value, 1, 32) || 'https://evil.example' AS BLOB)
		WHERE key = 'registry_url'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = Open(ctx, path, []byte(testSecret), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if u, err := s.RegistryURL(ctx); !errors.Is(err, ErrTampered) || u != "" {
		t.Fatalf("edited URL: %q %v, want ErrTampered", u, err)
	}
	rep, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range rep.Tables {
		if tr.Table == "registry link" && len(tr.Bad) == 1 {
			return
		}
	}
	t.Fatalf("store verify did not report the registry link: %+v", rep.Tables)
}
