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

// ModelKind says where a model file comes from, judged by its SHA-256.
type ModelKind string

const (
	// KindPublished is a model published by dlib (dlib.net / davisking/dlib-models).
	KindPublished ModelKind = "published"
	// KindDevTrained is a model trained for this project's development (shared/models);
	// fine for tests, not for deployment (its training data excludes commercial use).
	KindDevTrained ModelKind = "dev-trained"
	// KindStandIn is a random-weight stand-in: it loads and costs the same, and recognises
	// no one.
	KindStandIn ModelKind = "stand-in"
	// KindUnknown is a file whose hash is in no list: it may be a newer release or a
	// tampered file, so it is loaded with a warning.
	KindUnknown ModelKind = "unknown"
)

// knownModels maps SHA-256 to (file, kind). Published hashes are of the decompressed .dat
// files. The recognition and 5-point values come from a third-party record of
// davisking/dlib-models downloads and must be confirmed on a machine with network access
// (see build/README.md); the CNN detector's was checked against shared/models.
var knownModels = map[string]struct {
	file string
	kind ModelKind
}{
	"55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30": {RecognitionFile, KindPublished},
	"c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888": {ShapePredictorFile, KindPublished},
	"be467b1a76f482693de3b0f6a1ff91d092319be71523d4d4b0628f6a53fcb87a": {CNNDetectorFile, KindPublished},
	// The same CNN network with other weights, as shipped in face_recognition_models and
	// Kagami/go-face-testdata.
	"4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6": {CNNDetectorFile, KindPublished},
	// shared/models (see its README).
	"a0a60dc31e96dac66290f79bac28f338ea9a2042f6eeaa6a9406825cb5a89074": {ShapePredictorFile, KindDevTrained},
	"23d0982c48a24fb4f50c3df2128e6d17f3b6d47c9d309ced6e3acff0adfd0bfb": {RecognitionFile, KindStandIn},
}

// ModelInfo describes one checked model file.
type ModelInfo struct {
	File   string // base name
	Path   string
	Size   int64
	SHA256 string
	Kind   ModelKind
}

// ModelSet is the result of checking a model directory.
type ModelSet struct {
	Dir   string
	Files []ModelInfo // in ModelFiles order
}

// Kind returns the kind of the named file, or KindUnknown.
func (s ModelSet) Kind(file string) ModelKind {
	for _, f := range s.Files {
		if f.File == file {
			return f.Kind
		}
	}
	return KindUnknown
}

// Deployable reports whether every file is a published model: only then may a match
// decision be shown to an officer as a recognition result.
func (s ModelSet) Deployable() bool {
	for _, f := range s.Files {
		if f.Kind != KindPublished {
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
	sum := hex.EncodeToString(h.Sum(nil))
	kind := KindUnknown
	if k, ok := knownModels[sum]; ok && k.file == filepath.Base(path) {
		kind = k.kind
	}
	return ModelInfo{Path: path, Size: st.Size(), SHA256: sum, Kind: kind}, nil
}

// logModelKinds warns about anything that is not a published model; a stand-in gets a loud
// error-level line because its match results mean nothing.
func logModelKinds(log *slog.Logger, set ModelSet) {
	for _, f := range set.Files {
		switch f.Kind {
		case KindPublished:
			log.Info("face model", "file", f.File, "kind", f.Kind, "sha256", f.SHA256)
		case KindStandIn:
			log.Error("FACE MODEL IS A RANDOM-WEIGHT STAND-IN: face matching recognises no one; replace it with dlib's published model before any real use",
				"file", f.File, "sha256", f.SHA256)
		case KindDevTrained:
			log.Warn("face model is a development model, not for deployment", "file", f.File, "sha256", f.SHA256)
		default:
			log.Warn("face model has an unknown SHA-256: not a known published file", "file", f.File, "sha256", f.SHA256)
		}
	}
}
