package face

import (
	"errors"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	goface "github.com/Kagami/go-face"
)

// ErrClosed is returned by an Engine used after Close.
var ErrClosed = errors.New("face engine closed")

// Detector selects dlib's face detector.
type Detector int

const (
	// HOG is dlib's frontal face detector: about 25 ms per VGA frame here, the default.
	HOG Detector = iota
	// CNN is dlib's MMOD detector: finds more poses but costs about 1 s per VGA frame on a
	// CPU with Debian's dlib, so it is an option for still photos, not for live video.
	CNN
)

func (d Detector) String() string {
	if d == CNN {
		return "cnn"
	}
	return "hog"
}

// ParseDetector reads "hog" or "cnn".
func ParseDetector(s string) (Detector, error) {
	switch s {
	case "hog", "":
		return HOG, nil
	case "cnn":
		return CNN, nil
	}
	return HOG, fmt.Errorf("unknown face detector %q (want hog or cnn)", s)
}

// Engine owns the loaded dlib models. Load it once per process: loading takes about 0.6 s
// and 130 MB. It is safe for concurrent use: go-face serialises the detector and the
// descriptor network internally (a mutex each), the landmark model is read-only, and the
// engine's own lock keeps Close from freeing models under a running call.
type Engine struct {
	mu     sync.RWMutex
	rec    *goface.Recognizer
	models ModelSet
}

// RawFace is one face as dlib reports it, in the coordinates of the image it was given.
type RawFace struct {
	Rect       image.Rectangle
	Landmarks  [5]image.Point
	Descriptor Descriptor
}

// Load checks the model directory and loads the models. A missing or corrupt file is a
// *ModelError naming it; the kind of each file (published, dev-trained, stand-in, unknown)
// is logged, a stand-in loudly.
func Load(dir string, log *slog.Logger) (*Engine, error) {
	if log == nil {
		log = slog.Default()
	}
	set, err := CheckModels(dir)
	if err != nil {
		return nil, err
	}
	logModelKinds(log, set)
	rec, err := goface.NewRecognizer(dir)
	if err != nil {
		return nil, diagnoseLoadError(dir, err)
	}
	return &Engine{rec: rec, models: set}, nil
}

// diagnoseLoadError finds which file dlib could not deserialise. dlib reads the files in
// ModelFiles order and stops at the first bad one, and its "Unable to open" error names a
// missing file; so a directory holding only the first k files fails with "Unable to open
// <file k+1>" exactly when the first k files are good. The bad file is then the first k
// for which that does not happen. This only runs after a failed load.
func diagnoseLoadError(dir string, loadErr error) error {
	for k := 1; k < len(ModelFiles); k++ {
		ok, err := prefixLoads(dir, k)
		if err != nil {
			break
		}
		if !ok {
			return corruptModel(dir, ModelFiles[k-1], loadErr)
		}
	}
	return corruptModel(dir, ModelFiles[len(ModelFiles)-1], loadErr)
}

func prefixLoads(dir string, k int) (bool, error) {
	tmp, err := os.MkdirTemp("", "ikd-face-models-*")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false, err
	}
	for _, f := range ModelFiles[:k] {
		if err := os.Symlink(filepath.Join(abs, f), filepath.Join(tmp, f)); err != nil {
			return false, err
		}
	}
	rec, err := goface.NewRecognizer(tmp)
	if err == nil { // cannot happen with a file missing; treat as loadable
		rec.Close()
		return true, nil
	}
	return strings.Contains(err.Error(), "Unable to open") && strings.Contains(err.Error(), ModelFiles[k]), nil
}

func corruptModel(dir, file string, cause error) error {
	msg := strings.Join(strings.Fields(cause.Error()), " ") // dlib's messages span lines
	return &ModelError{File: file, Path: filepath.Join(dir, file),
		Err: fmt.Errorf("%w: dlib cannot read it (%s)", ErrModelCorrupt, msg)}
}

// Models reports which model files are loaded.
func (e *Engine) Models() ModelSet { return e.models }

// Close frees the models. It waits for running calls and is safe to call more than once.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rec != nil {
		e.rec.Close()
		e.rec = nil
	}
	return nil
}

// Recognize runs detection, landmarks and the descriptor on a JPEG in one dlib call (go-face
// offers no detection-only entry point; on a frame without a face it costs detection only).
// Most callers want Analyzer.Analyze.
func (e *Engine) Recognize(jpegData []byte, det Detector) ([]RawFace, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.rec == nil {
		return nil, ErrClosed
	}
	var (
		faces []goface.Face
		err   error
	)
	if det == CNN {
		faces, err = e.rec.RecognizeCNN(jpegData)
	} else {
		faces, err = e.rec.Recognize(jpegData)
	}
	if err != nil {
		return nil, fmt.Errorf("dlib recognize: %w", err)
	}
	out := make([]RawFace, 0, len(faces))
	for _, f := range faces {
		if len(f.Shapes) != 5 {
			return nil, fmt.Errorf("landmark model gives %d points, want 5 (wrong %s?)", len(f.Shapes), ShapePredictorFile)
		}
		df := RawFace{Rect: f.Rectangle, Descriptor: Descriptor(f.Descriptor)}
		copy(df.Landmarks[:], f.Shapes)
		out = append(out, df)
	}
	return out, nil
}
