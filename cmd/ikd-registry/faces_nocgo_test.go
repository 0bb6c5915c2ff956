//go:build !cgo

package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/sync/registry"
)

// A registry built without cgo refuses to describe photos, saying how to get one that can,
// and imports nothing.
func TestResidentsImportModelsWithoutCgo(t *testing.T) {
	dir := t.TempDir()
	keyFile, file := filepath.Join(dir, "data.key"), filepath.Join(dir, "residents.ndjson")
	if err := registry.CreateDataKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err := dispatch(context.Background(), []string{"residents", "import", "--db", "sqlite:" + filepath.Join(dir, "r.db"),
		"--data-key-file", keyFile, "--models", dir, file}, &out, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "built without cgo") || strings.Contains(out.String(), "imported") {
		t.Fatalf("error %v, output %q", err, out.String())
	}
}
