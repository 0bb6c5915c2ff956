// Package dlib is the kiosk's only cgo face code: it runs dlib's detector, landmark model
// and descriptor network through go-face, and dlib's HOG detector alone (hogdetect.cc: go-face
// has no detection-only call), and implements face.Recognizer. Everything that
// decides anything (quality, liveness, matching, the band) is pure Go elsewhere.
package dlib

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	goface "github.com/Kagami/go-face"

	"github.com/ikd-field/ikd/kiosk/face"
)

// Engine owns the loaded dlib models. Load it once per process: loading takes about 0.6 s
// and 130 MB. It is safe for concurrent use: go-face serialises the detector and the
// descriptor network internally (a mutex each), the landmark model is read-only, the lone
// HOG detector has its own mutex, and the engine's own lock keeps Close from freeing models
// under a running call.
type Engine struct {
	mu     sync.RWMutex
	rec    *goface.Recognizer
	hog    *hogDetector
	models face.ModelSet
}

var _ face.Recognizer = (*Engine)(nil)

// jpegQuality is the quality of the JPEG handed to dlib (go-face reads nothing else). The
// descriptor is computed from this image, so it is not set low: at 90 the re-encoding error
// is below the sensor noise of a webcam.
const jpegQuality = 90

// Load checks the model directory and loads the models. A missing or corrupt file is a
// *face.ModelError naming it; the class of each file (published, converted, development,
// stand-in, unknown) is logged, a stand-in loudly.
func Load(dir string, log *slog.Logger) (*Engine, error) {
	if log == nil {
		log = slog.Default()
	}
	set, err := face.CheckModels(dir)
	if err != nil {
		return nil, err
	}
	face.LogModelClasses(log, set)
	rec, err := goface.NewRecognizer(dir)
	if err != nil {
		return nil, diagnoseLoadError(dir, err)
	}
	hog, err := newHOGDetector()
	if err != nil {
		rec.Close()
		return nil, err
	}
	return &Engine{rec: rec, hog: hog, models: set}, nil
}

// diagnoseLoadError finds which file dlib could not deserialise. dlib reads the files in
// face.ModelFiles order and stops at the first bad one, and its "Unable to open" error names a
// missing file; so a directory holding only the first k files fails with "Unable to open
// <file k+1>" exactly when the first k files are good. The bad file is then the first k
// for which that does not happen. This only runs after a failed load.
func diagnoseLoadError(dir string, loadErr error) error {
	for k := 1; k < len(face.ModelFiles); k++ {
		ok, err := prefixLoads(dir, k)
		if err != nil {
			break
		}
		if !ok {
			return corruptModel(dir, face.ModelFiles[k-1], loadErr)
		}
	}
	return corruptModel(dir, face.ModelFiles[len(face.ModelFiles)-1], loadErr)
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
	for _, f := range face.ModelFiles[:k] {
		if err := os.Symlink(filepath.Join(abs, f), filepath.Join(tmp, f)); err != nil {
			return false, err
		}
	}
	rec, err := goface.NewRecognizer(tmp)
	if err == nil { // cannot happen with a file missing; treat as loadable
		rec.Close()
		return true, nil
	}
	return strings.Contains(err.Error(), "Unable to open") && strings.Contains(err.Error(), face.ModelFiles[k]), nil
}

func corruptModel(dir, file string, cause error) error {
	msg := strings.Join(strings.Fields(cause.Error()), " ") // dlib's messages span lines
	return &face.ModelError{File: file, Path: filepath.Join(dir, file),
		Err: fmt.Errorf("%w: dlib cannot read it (%s)", face.ErrModelCorrupt, msg)}
}

// Models reports which model files are loaded.
func (e *Engine) Models() face.ModelSet { return e.models }

// Close frees the models. It waits for running calls and is safe to call more than once.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rec != nil {
		e.rec.Close()
		e.hog.close()
		e.rec = nil
	}
	return nil
}

// Detect implements face.Recognizer: HOG runs alone, on img as RGB. go-face has no
// detection-only call, so the CNN detector runs through Recognize and its descriptors are
// dropped (beside the CNN's second per frame they cost little).
func (e *Engine) Detect(ctx context.Context, img *image.YCbCr, det face.Detector) ([]image.Rectangle, error) {
	if det == face.CNN {
		faces, err := e.Recognize(ctx, img, det)
		if err != nil {
			return nil, err
		}
		boxes := make([]image.Rectangle, len(faces))
		for i, f := range faces {
			boxes[i] = f.Rect
		}
		return boxes, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.rec == nil {
		return nil, face.ErrClosed
	}
	return e.hog.detect(img)
}

// Recognize implements face.Recognizer: detection, landmarks and the descriptor in one dlib
// call on a JPEG of img (go-face offers no detection-only entry point; on a frame without a
// face it costs detection only).
func (e *Engine) Recognize(ctx context.Context, img *image.YCbCr, det face.Detector) ([]face.RawFace, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := encodeJPEG(img, jpegQuality)
	if err != nil {
		return nil, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.rec == nil {
		return nil, face.ErrClosed
	}
	var faces []goface.Face
	if det == face.CNN {
		faces, err = e.rec.RecognizeCNN(data)
	} else {
		faces, err = e.rec.Recognize(data)
	}
	if err != nil {
		return nil, fmt.Errorf("dlib recognize: %w", err)
	}
	out := make([]face.RawFace, len(faces))
	for i, f := range faces {
		out[i] = face.RawFace{Rect: f.Rectangle, Landmarks: f.Shapes, Descriptor: face.Descriptor(f.Descriptor)}
	}
	return out, nil
}
