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

	"github.com/ikd-field/ikd/internal/shareddata"
)

// sharedModels returns the shared model directory or skips.
func sharedModels(t testing.TB) string {
	t.Helper()
	return filepath.Dir(shareddata.Require(t, "models", RecognitionFile))
}

// sharedPhoto decodes shared/testdata/faces/<rel> or skips.
func sharedPhoto(t testing.TB, rel string) image.Image {
	t.Helper()
	path := shareddata.Require(t, "testdata", "faces", rel)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
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
