package dlib

import (
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"

	"github.com/ikd-field/ikd/internal/slowtest"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/facetest"
)

// TestSlowLoadCorruptModelIsAnError feeds dlib truncated and garbage model files: each must come
// back as a ModelError naming the file, never abort the process.
func TestSlowLoadCorruptModelIsAnError(t *testing.T) {
	slowtest.Skip(t, "loads the models several times (seconds each)")
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
		content    func(t *testing.T) []byte
	}{
		{"LandmarksTruncatedToHalf", face.ShapePredictorFile, func(t *testing.T) []byte { b := facetest.ReadModel(t, face.ShapePredictorFile); return b[:len(b)/2] }},
		{"RecognitionTruncatedNearEnd", face.RecognitionFile, func(t *testing.T) []byte { b := facetest.ReadModel(t, face.RecognitionFile); return b[:len(b)-1000] }},
		{"RecognitionTruncatedEarly", face.RecognitionFile, func(t *testing.T) []byte { return facetest.ReadModel(t, face.RecognitionFile)[:100<<10] }},
		{"DetectorTruncated", face.CNNDetectorFile, func(t *testing.T) []byte { b := facetest.ReadModel(t, face.CNNDetectorFile); return b[:len(b)*9/10] }},
		{"RecognitionGarbage", face.RecognitionFile, func(t *testing.T) []byte { return garbage(1 << 20) }},
		{"LandmarksGarbage", face.ShapePredictorFile, func(t *testing.T) []byte { return garbage(1 << 20) }},
		{"DetectorIsALandmarkModel", face.CNNDetectorFile, func(t *testing.T) []byte { return facetest.ReadModel(t, face.ShapePredictorFile) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Load(facetest.ModelDirWith(t, tc.file, tc.content(t)), quiet)
			if err == nil {
				e.Close()
				t.Fatal("corrupt model loaded")
			}
			var me *face.ModelError
			if !errors.As(err, &me) || me.File != tc.file || !errors.Is(err, face.ErrModelCorrupt) {
				t.Fatalf("err %v, want a corrupt-model error for %s", err, tc.file)
			}
		})
	}
}
