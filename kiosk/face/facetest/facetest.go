// Package facetest holds the test helpers that the pure face packages and the dlib adapter
// share: the shared development models and photos, and model directories with one file
// replaced. It is pure Go and imports no face package, so that face's own tests can use it.
package facetest

import (
	"encoding/base64"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/internal/shareddata"
	"github.com/ikd-field/ikd/kiosk"
)

// modelFiles are the files go-face loads (face.ModelFiles; repeated here to avoid an import
// cycle with face's tests).
var modelFiles = []string{"shape_predictor_5_face_landmarks.dat", "dlib_face_recognition_resnet_model_v1.dat", "mmod_human_face_detector.dat"}

// SharedModels returns the shared development model directory or skips.
func SharedModels(t testing.TB) string {
	t.Helper()
	return filepath.Dir(shareddata.Require(t, "models", modelFiles[1]))
}

// ReadSharedModel returns the bytes of one shared model file or skips.
func ReadSharedModel(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(SharedModels(t), file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RealModelsEnv names a complete model directory as build/models.sh installs it (make
// check-models sets it): tests of model loading use it where the shared models are absent.
const RealModelsEnv = "IKD_REAL_MODELS"

// Models returns $IKD_REAL_MODELS when set, else the shared development models, or skips.
func Models(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv(RealModelsEnv); dir != "" {
		return dir
	}
	return SharedModels(t)
}

// ReadModel returns the bytes of one file of Models.
func ReadModel(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Models(t), file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ModelDirWith builds a model directory in t.TempDir() linking the files of Models, with the
// named file replaced by content (nil: left out).
func ModelDirWith(t testing.TB, file string, content []byte) string {
	t.Helper()
	shared := Models(t)
	dir := t.TempDir()
	for _, f := range modelFiles {
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

// SharedPhoto decodes shared/testdata/faces/<rel> or skips.
func SharedPhoto(t testing.TB, rel string) image.Image {
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

// WriteDescriptorFile writes a synthetic descriptor file in the idols-dev.json format to
// t.TempDir() and returns its path: people tight clusters of faces descriptors each, the same
// on every run.
func WriteDescriptorFile(t testing.TB, people, faces int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 1))
	var idols, entries []string
	for p := range people {
		idols = append(idols, fmt.Sprintf(`{"id": "p%d"}`, p))
		var centre [len(kiosk.Descriptor{})]float64
		for i := range centre {
			centre[i] = 0.1 * rng.NormFloat64()
		}
		for range faces {
			var d kiosk.Descriptor
			for i := range d {
				d[i] = float32(centre[i] + 0.03*rng.NormFloat64())
			}
			b, _ := d.AppendBinary(nil)
			entries = append(entries, fmt.Sprintf(`{"idol_id": "p%d", "descriptor": %q}`, p, base64.StdEncoding.EncodeToString(b)))
		}
	}
	path := filepath.Join(t.TempDir(), "d.json")
	if err := os.WriteFile(path, []byte(`{"idols": [`+strings.Join(idols, ",")+`], "faces": [`+strings.Join(entries, ",")+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
