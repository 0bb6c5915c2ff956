package dlib

import (
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/facetest"
)

var sharedEngine struct {
	once sync.Once
	e    *Engine
	err  error
}

// mustEngine loads the shared models once per test binary.
func mustEngine(t testing.TB) *Engine {
	t.Helper()
	dir := facetest.SharedModels(t)
	sharedEngine.once.Do(func() {
		sharedEngine.e, sharedEngine.err = Load(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	})
	if sharedEngine.err != nil {
		t.Fatal(sharedEngine.err)
	}
	return sharedEngine.e
}

func mustAnalyzer(t testing.TB, opt face.Options) *face.Analyzer {
	t.Helper()
	a, err := face.NewAnalyzer(mustEngine(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
