package face

import (
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// sharedDir is $IKD_SHARED or the shared folder beside the module root.
func sharedDir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("IKD_SHARED"); dir != "" {
		return dir
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("shared data: module root not found; set IKD_SHARED")
		}
		dir = parent
	}
}

// sharedModels returns the shared model directory or skips.
func sharedModels(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(sharedDir(t), "models")
	if _, err := os.Stat(filepath.Join(dir, RecognitionFile)); err != nil {
		t.Skipf("shared models absent (%v); set IKD_SHARED to the shared folder to run this test", err)
	}
	return dir
}

// sharedPhoto decodes shared/testdata/faces/<rel> or skips.
func sharedPhoto(t testing.TB, rel string) image.Image {
	t.Helper()
	path := filepath.Join(sharedDir(t), "testdata", "faces", rel)
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("shared test photo absent (%v); set IKD_SHARED to run this test", err)
	}
	defer f.Close()
	m, err := jpeg.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return m
}

var sharedEngine struct {
	once sync.Once
	e    *Engine
	err  error
}

// mustEngine loads the shared models once per test binary.
func mustEngine(t testing.TB) *Engine {
	t.Helper()
	dir := sharedModels(t)
	sharedEngine.once.Do(func() {
		sharedEngine.e, sharedEngine.err = Load(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	})
	if sharedEngine.err != nil {
		t.Fatal(sharedEngine.err)
	}
	return sharedEngine.e
}

func mustAnalyzer(t testing.TB, opt Options) *Analyzer {
	t.Helper()
	a, err := NewAnalyzer(mustEngine(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
