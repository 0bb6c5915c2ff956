package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunRefusesBadKeys(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	garbage := filepath.Join(t.TempDir(), "registry-signing.key")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	exposed := filepath.Join(t.TempDir(), "registry-signing.key")
	if err := os.WriteFile(exposed, []byte("not a key either"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(exposed, 0o644); err != nil { // exactly, whatever the umask
		t.Fatal(err)
	}
	tests := []struct {
		name, key, want string
	}{
		{"NoKey", "", "--key is required"},
		{"MissingFile", filepath.Join(t.TempDir(), "absent.key"), "read signing key"},
		{"NotAKey", garbage, garbage},
		{"WorldReadable", exposed, "chmod 600 " + exposed},
		{"DevZero", "/dev/zero", "more than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run("127.0.0.1:0", tt.key, time.Minute, log)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
