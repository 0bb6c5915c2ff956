package face

import (
	"context"
	"errors"
	"fmt"
	"image"
)

// Recognizer runs the face models on one image. Package kiosk/face/dlib implements it with
// dlib through go-face (cgo); everything else in this package is pure Go and tests with a
// fake.
type Recognizer interface {
	// Recognize finds the faces in img with detector det and returns each one's box, its
	// landmarks as the landmark model gives them (5 or 68 points; quality.FromShape reads
	// both) and its descriptor. Coordinates are pixels of img counted from img.Rect.Min. No
	// face is an empty result, not an error. It returns ctx's error without running when
	// ctx is done (a running dlib call cannot be interrupted) and ErrClosed once the models
	// are freed. It must be safe for concurrent use.
	Recognize(ctx context.Context, img *image.YCbCr, det Detector) ([]RawFace, error)
	// Detect finds the faces in img with detector det and returns their boxes only, in the
	// same coordinates and under the same contract as Recognize.
	Detect(ctx context.Context, img *image.YCbCr, det Detector) ([]image.Rectangle, error)
}

// RawFace is one face as the models report it, in the coordinates of the image they were given.
type RawFace struct {
	Rect       image.Rectangle
	Landmarks  []image.Point
	Descriptor Descriptor
}

// ErrClosed is returned by a Recognizer used after Close.
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
