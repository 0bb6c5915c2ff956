package face

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face/facetest"
)

func TestCheckModelsClassifiesSharedModels(t *testing.T) {
	set, err := CheckModels(facetest.SharedModels(t))
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]kiosk.ModelClass{
		ShapePredictorFile: kiosk.ModelDevelopment,
		RecognitionFile:    kiosk.ModelStandIn,
		CNNDetectorFile:    kiosk.ModelPublished,
	} {
		if got := set.Class(file); got != want {
			t.Errorf("%s: class %s, want %s", file, got, want)
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
			_, err := CheckModels(facetest.ModelDirWith(t, tc.file, tc.content))
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
	b := facetest.ReadSharedModel(t, CNNDetectorFile)
	b[len(b)-1] ^= 0xff // same size, different bytes: not the published file
	set, err := CheckModels(facetest.ModelDirWith(t, CNNDetectorFile, b))
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Class(CNNDetectorFile); got != kiosk.ModelUnknown {
		t.Fatalf("class %s, want unknown", got)
	}
}

// Debian's libdlib-data ships dlib's published 68-point model; installed under the 5-point
// name it is a published landmark model.
func TestCheckModelsDebian68PointLandmarks(t *testing.T) {
	const debian = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"
	b, err := os.ReadFile(debian)
	if err != nil {
		t.Skipf("Debian's 68-point model absent (install libdlib-data): %v", err)
	}
	set, err := CheckModels(facetest.ModelDirWith(t, ShapePredictorFile, b))
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Class(ShapePredictorFile); got != kiosk.ModelPublished {
		t.Fatalf("class %s, want published", got)
	}
	if f := set.Files[0]; !strings.Contains(f.Source, "68") {
		t.Fatalf("source %q does not say it is the 68-point model", f.Source)
	}
}

func TestKnownModelsAreWellFormed(t *testing.T) {
	for sum, k := range knownModels {
		if len(sum) != 64 || strings.ToLower(sum) != sum {
			t.Errorf("%s: not a lower-case hex SHA-256", sum)
		}
		if !slices.Contains(ModelFiles, k.file) || k.source == "" {
			t.Errorf("%s: file %q source %q", sum, k.file, k.source)
		}
		switch k.class {
		case kiosk.ModelPublished, kiosk.ModelConverted, kiosk.ModelDevelopment, kiosk.ModelStandIn:
		default:
			t.Errorf("%s: class %q", sum, k.class)
		}
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
