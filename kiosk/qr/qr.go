// Package qr reads the activation QR code from camera frames. The kiosk talks to it through
// Decoder, so the scanner can be measured and replaced without touching the UI.
//
// Scanner is tuned for a webcam pointed at a phone screen: it reads the frame's luminance
// plane in place, tries cheap attempts first and spends its time budget on harder ones
// (smoothing, downscaling, another binarizer, inverted codes) only when a frame looks like
// it holds a code. Plain is unmodified gozxing, kept as the baseline for benchmarks.
package qr

import (
	"context"
	"errors"
	"image"
)

// Decoder turns a picture into the text of the QR code it shows.
type Decoder interface {
	// Decode returns the text of a QR code in img. It returns an error matching ErrNotFound
	// when no readable code is in view, and ctx's error when ctx ends first. Decoders may
	// keep state between calls (what worked on the last frame) but are not safe for
	// concurrent use unless they say so.
	Decode(ctx context.Context, img image.Image) (string, error)
}

// ErrNotFound means no readable QR code was found in the frame.
var ErrNotFound = errors.New("qr: no readable code in view")
