package face

import (
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// modelDirWith builds a model directory in t.TempDir() linking the shared models, with the
// named file replaced by content (nil: left out).
func modelDirWith(t *testing.T, file string, content []byte) string {
	t.Helper()
	shared := sharedModels(t)
	dir := t.TempDir()
	for _, f := range ModelFiles {
		dst := filepath.Join(dir, f)
		if f == file {
			if content != nil {
				if err := os.WriteFile(dst, content, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		if err := os.Symlink(filepath.Join(shared, f), dst); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readShared(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedModels(t), file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckModelsClassifiesSharedModels(t *testing.T) {
	set, err := CheckModels(sharedModels(t))
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]ModelKind{
		ShapePredictorFile: KindDevTrained,
		RecognitionFile:    KindStandIn,
		CNNDetectorFile:    KindPublished,
	} {
		if got := set.Kind(file); got != want {
			t.Errorf("%s: kind %s, want %s", file, got, want)
		}
	}
	if set.Deployable() {
		t.Error("shared dev models reported deployable")
	}
}

func TestCheckModelsRejectsBadFiles(t *testing.T) {
	bz := append([]byte("BZh91AY&SY"), make([]byte, 100<<10)...)
	for _, tc := range []struct {
		name, file string
		content    []byte
		want       error
		mention    string
	}{
		{"MissingRecognition", RecognitionFile, nil, ErrModelMissing, "dlib-models"},
		{"MissingLandmarks", ShapePredictorFile, nil, ErrModelMissing, "bunzip2"},
		{"EmptyDetector", CNNDetectorFile, []byte{}, ErrModelCorrupt, "0 bytes"},
		{"StillCompressed", RecognitionFile, bz, ErrModelCorrupt, "bunzip2 first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CheckModels(modelDirWith(t, tc.file, tc.content))
			var me *ModelError
			if !errors.As(err, &me) || me.File != tc.file || !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want a ModelError for %s wrapping %v", err, tc.file, tc.want)
			}
			if !strings.Contains(err.Error(), tc.file) || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("error %q does not name the file and %q", err, tc.mention)
			}
		})
	}
}

func TestCheckModelsUnknownHash(t *testing.T) {
	b := readShared(t, CNNDetectorFile)
	b[len(b)-1] ^= 0xff // same size, different bytes: not the published file
	set, err := CheckModels(modelDirWith(t, CNNDetectorFile, b))
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Kind(CNNDetectorFile); got != KindUnknown {
		t.Fatalf("kind %s, want unknown", got)
	}
}

// TestLoadCorruptModelIsAnError feeds dlib truncated and garbage model files: each must come
// back as a ModelError naming the file, never abort the process.
func TestLoadCorruptModelIsAnError(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the models several times (seconds each)")
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	garbage := func(n int) []byte {
		r := rand.New(rand.NewPCG(7, 7))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		return b
	}
	for _, tc := range []struct {
		name, file string
		content    func() []byte
	}{
		{"LandmarksTruncatedToHalf", ShapePredictorFile, func() []byte { b := readShared(t, ShapePredictorFile); return b[:len(b)/2] }},
		{"RecognitionTruncatedNearEnd", RecognitionFile, func() []byte { b := readShared(t, RecognitionFile); return b[:len(b)-1000] }},
		{"RecognitionTruncatedEarly", RecognitionFile, func() []byte { return readShared(t, RecognitionFile)[:100<<10] }},
		{"DetectorTruncated", CNNDetectorFile, func() []byte { b := readShared(t, CNNDetectorFile); return b[:len(b)*9/10] }},
		{"RecognitionGarbage", RecognitionFile, func() []byte { return garbage(1 << 20) }},
		{"LandmarksGarbage", ShapePredictorFile, func() []byte { return garbage(1 << 20) }},
		{"DetectorIsALandmarkModel", CNNDetectorFile, func() []byte { return readShared(t, ShapePredictorFile) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Load(modelDirWith(t, tc.file, tc.content()), quiet)
			if err == nil {
				e.Close()
				t.Fatal("corrupt model loaded")
			}
			var me *ModelError
			if !errors.As(err, &me) || me.File != tc.file || !errors.Is(err, ErrModelCorrupt) {
				t.Fatalf("err %v, want a corrupt-model error for %s", err, tc.file)
			}
		})
	}
}

func TestResolveModelDir(t *testing.T) {
	t.Setenv(ModelsEnv, "/from/env")
	if got := ResolveModelDir("/from/flag", "dev"); got != "/from/flag" {
		t.Errorf("flag: %s", got)
	}
	if got := ResolveModelDir("", "dev"); got != "/from/env" {
		t.Errorf("env: %s", got)
	}
	t.Setenv(ModelsEnv, "")
	if got := ResolveModelDir("", "dev"); got != "dev" {
		t.Errorf("fallback: %s", got)
	}
}
