package face

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/ikd-field/ikd/kiosk"
)

// The three files go-face loads from its model directory.
const (
	ShapePredictorFile = "shape_predictor_5_face_landmarks.dat"
	RecognitionFile    = "dlib_face_recognition_resnet_model_v1.dat"
	CNNDetectorFile    = "mmod_human_face_detector.dat"
)

// ModelFiles lists the model files in the order go-face deserialises them.
var ModelFiles = []string{ShapePredictorFile, RecognitionFile, CNNDetectorFile}

// ModelsEnv names the environment variable that points at the model directory.
const ModelsEnv = "IKD_MODELS"

// minModelBytes is far below the smallest real model (the CNN detector, 730 kB); anything
// smaller is certainly not a model and is rejected before dlib sees it.
const minModelBytes = 64 << 10

// knownModel is what the project knows of one published or produced model file.
type knownModel struct {
	file   string // the name go-face loads it under
	class  kiosk.ModelClass
	source string // where the bytes come from, for the log and the operator
}

// knownModels maps SHA-256 to what the file is. Published hashes are of the decompressed .dat
// files. The recognition and 5-point values come from a third-party record of
// davisking/dlib-models downloads and must be confirmed on a machine with network access
// (see build/README.md); the CNN detector's was checked against shared/models, the 68-point
// model's against Debian's libdlib-data 19.24+dfsg-1. A converted recognition model
// (kiosk.ModelConverted, which may report a match) is listed only after
// TestSlowConvertedModelFitsTheCalibration in kiosk/face/dlib has passed on that very file.
var knownModels = map[string]knownModel{
	"55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30": {RecognitionFile, kiosk.ModelPublished, "dlib.net dlib_face_recognition_resnet_model_v1"},
	"c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888": {ShapePredictorFile, kiosk.ModelPublished, "dlib.net shape_predictor_5_face_landmarks"},
	// go-face loads whatever file has the 5-point name; dlib's chip alignment and
	// quality.FromShape take 68 points too.
	"fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f": {ShapePredictorFile, kiosk.ModelPublished, "dlib.net shape_predictor_68_face_landmarks (Debian libdlib-data)"},
	"be467b1a76f482693de3b0f6a1ff91d092319be71523d4d4b0628f6a53fcb87a": {CNNDetectorFile, kiosk.ModelPublished, "dlib.net mmod_human_face_detector"},
	// The same CNN network with other weights, as shipped in face_recognition_models and
	// Kagami/go-face-testdata.
	"4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6": {CNNDetectorFile, kiosk.ModelPublished, "face_recognition_models mmod_human_face_detector"},
	// build/convert/face_api_to_dlib.cc with Debian's dlib 19.24 (build/README.md): the same
	// network and weights, 8-bit quantised. TestSlowConvertedModelFitsTheCalibration (package
	// dlib) shows its descriptors fit the calibration, so it may report a match.
	"cdb1d47b961fe310ef1f3aa2974c5f65d29c079346760f6b6785c7e405f7266a": {RecognitionFile, kiosk.ModelConverted, "@vladmandic/face-api@1.7.15, 8-bit port"},
	// shared/models (see its README).
	"a0a60dc31e96dac66290f79bac28f338ea9a2042f6eeaa6a9406825cb5a89074": {ShapePredictorFile, kiosk.ModelDevelopment, "shared/models, distilled from dlib's 68-point model"},
	"23d0982c48a24fb4f50c3df2128e6d17f3b6d47c9d309ced6e3acff0adfd0bfb": {RecognitionFile, kiosk.ModelStandIn, "shared/models random-weight stand-in"},
}

// ModelInfo describes one checked model file.
type ModelInfo struct {
	File   string // base name
	Path   string
	Size   int64
	SHA256 string
	Class  kiosk.ModelClass
	Source string // empty for an unknown file
}

// ModelSet is the result of checking a model directory.
type ModelSet struct {
	Dir   string
	Files []ModelInfo // in ModelFiles order
}

// Class returns the class of the named file, or kiosk.ModelUnknown.
func (s ModelSet) Class(file string) kiosk.ModelClass {
	for _, f := range s.Files {
		if f.File == file {
			return f.Class
		}
	}
	return kiosk.ModelUnknown
}

// Deployable reports whether every file is a published or converted (dlib's own weights)
// model: no development or stand-in model, nothing unknown.
func (s ModelSet) Deployable() bool {
	for _, f := range s.Files {
		if f.Class != kiosk.ModelPublished && f.Class != kiosk.ModelConverted {
			return false
		}
	}
	return len(s.Files) == len(ModelFiles)
}

// Errors for a model directory that cannot be used; a *ModelError wraps them.
var (
	ErrModelMissing = errors.New("model file missing")
	ErrModelCorrupt = errors.New("model file corrupt")
)

// ModelError names the model file at fault and how to obtain a good copy.
type ModelError struct {
	File string
	Path string
	Err  error
}

func (e *ModelError) Error() string {
	return fmt.Sprintf("model %s (%s): %v; %s", e.File, e.Path, e.Err, obtainHint(e.File))
}

func (e *ModelError) Unwrap() error { return e.Err }

func obtainHint(file string) string {
	if file == ModernFile {
		return "run build/models.sh: it takes " + ModernFile + " from the pinned npm package faceplugin-face-recognition-js@0.0.1"
	}
	return fmt.Sprintf("download https://github.com/davisking/dlib-models/raw/master/%s.bz2 "+
		"(also at http://dlib.net/files/), run bunzip2, check it with sha256sum and place it in the model directory", file)
}

// ResolveModelDir returns flagValue if set, else $IKD_MODELS, else fallback.
func ResolveModelDir(flagValue, fallback string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := os.Getenv(ModelsEnv); v != "" {
		return v
	}
	return fallback
}

// CheckModels verifies that dir holds the three model files, hashes them and classifies each.
// It does not parse the files: a corrupt file that passes this check is caught when dlib
// deserialises it in Load.
func CheckModels(dir string) (ModelSet, error) {
	set := ModelSet{Dir: dir}
	for _, name := range ModelFiles {
		path := filepath.Join(dir, name)
		info, err := checkModelFile(path)
		if err != nil {
			return set, &ModelError{File: name, Path: path, Err: err}
		}
		info.File = name
		set.Files = append(set.Files, info)
	}
	return set, nil
}

func checkModelFile(path string) (ModelInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return ModelInfo{}, ErrModelMissing
		}
		return ModelInfo{}, fmt.Errorf("%w: %v", ErrModelCorrupt, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ModelInfo{}, fmt.Errorf("stat: %w", err)
	}
	if !st.Mode().IsRegular() {
		return ModelInfo{}, fmt.Errorf("%w: not a regular file", ErrModelCorrupt)
	}
	if st.Size() < minModelBytes {
		return ModelInfo{}, fmt.Errorf("%w: only %d bytes", ErrModelCorrupt, st.Size())
	}
	head := make([]byte, 3)
	if _, err := io.ReadFull(f, head); err != nil {
		return ModelInfo{}, fmt.Errorf("%w: read: %v", ErrModelCorrupt, err)
	}
	if string(head) == "BZh" {
		return ModelInfo{}, fmt.Errorf("%w: still bzip2-compressed, run bunzip2 first", ErrModelCorrupt)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return ModelInfo{}, fmt.Errorf("seek: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, bufio.NewReaderSize(f, 1<<20)); err != nil {
		return ModelInfo{}, fmt.Errorf("%w: read: %v", ErrModelCorrupt, err)
	}
	info := ModelInfo{Path: path, Size: st.Size(), SHA256: hex.EncodeToString(h.Sum(nil)), Class: kiosk.ModelUnknown}
	if k, ok := knownModels[info.SHA256]; ok && k.file == filepath.Base(path) {
		info.Class, info.Source = k.class, k.source
	}
	return info, nil
}

// LogModelClasses logs each file's class and source, warning about anything that may not
// decide a match; a stand-in gets a loud error-level line because its results mean nothing.
func LogModelClasses(log *slog.Logger, set ModelSet) {
	for _, f := range set.Files {
		attrs := []any{"file", f.File, "class", f.Class, "source", f.Source, "sha256", f.SHA256}
		switch f.Class {
		case kiosk.ModelPublished, kiosk.ModelConverted:
			log.Info("face model", attrs...)
		case kiosk.ModelStandIn:
			log.Error("FACE MODEL IS A RANDOM-WEIGHT STAND-IN: face matching recognises no one; replace it with dlib's published model before any real use", attrs...)
		case kiosk.ModelDevelopment:
			log.Warn("face model is a development model, not for deployment", attrs...)
		default:
			log.Warn("face model has an unknown SHA-256: not a known published file", attrs...)
		}
	}
}
