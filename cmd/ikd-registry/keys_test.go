package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/sync/registry/storeopen"
)

// TestServeRefusesNoDataKeyFile: without --data-key-file the registry does not start, so it
// never writes personal data in clear.
func TestServeRefusesNoDataKeyFile(t *testing.T) {
	keyFile := signingKeyFile(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := serveConfig{keyFile: keyFile, db: "sqlite:" + filepath.Join(t.TempDir(), "registry.db"), tokenTTL: time.Minute}
	err = run(context.Background(), c, ln, nil, slog.New(slog.DiscardHandler))
	if !errors.Is(err, storeopen.ErrNoDataKey) {
		t.Fatalf("run without --data-key-file: %v, want ErrNoDataKey", err)
	}
}

// TestKeysCommands: a new data key file is 0600 and never replaced; an operator command opens
// the database only with it; a rotated file still opens what the old key sealed.
func TestKeysCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keyFile, db := filepath.Join(dir, "data.key"), "sqlite:"+filepath.Join(dir, "registry.db")
	do := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := dispatch(ctx, args, &out, slog.New(slog.DiscardHandler))
		return out.String(), err
	}
	if _, err := do("keys", "new-data-key", "--out", keyFile); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new data key file: %v, %v; want mode 0600", fi, err)
	}
	if _, err := do("keys", "new-data-key", "--out", keyFile); !errors.Is(err, os.ErrExist) {
		t.Fatalf("new-data-key over an existing file: %v, want ErrExist", err)
	}
	if _, err := do("stats", "--db", db); !errors.Is(err, storeopen.ErrNoDataKey) {
		t.Fatalf("stats without --data-key-file: %v, want ErrNoDataKey", err)
	}
	if _, err := do("enroll-code", "--db", db, "--data-key-file", keyFile, "--area", "Cibinong"); err != nil {
		t.Fatal(err)
	}
	if out, err := do("keys", "rotate-data-key", "--file", keyFile); err != nil || !strings.Contains(out, "data key 2") {
		t.Fatalf("rotate-data-key: %q, %v", out, err)
	}
	if out, err := do("stats", "--db", db, "--data-key-file", keyFile); err != nil || !strings.Contains(out, "devices 0") {
		t.Fatalf("stats after rotation: %q, %v", out, err)
	}
}
