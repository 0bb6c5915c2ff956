package qr

import (
	"context"
	"errors"
	"image"
	"testing"
)

// FuzzScannerDecode feeds arbitrary pictures (camera frames are outside input) through every
// rung of the scanner: it must answer with text or ErrNotFound, never panic.
func FuzzScannerDecode(f *testing.F) {
	f.Add(uint8(64), uint8(48), []byte{0, 255, 0, 255})
	f.Add(uint8(21), uint8(21), []byte{0})
	f.Add(uint8(200), uint8(3), []byte{128, 1, 2})
	f.Fuzz(func(t *testing.T, w, h uint8, pix []byte) {
		img := image.NewGray(image.Rect(0, 0, int(w), int(h)))
		for i := range img.Pix {
			if len(pix) > 0 {
				img.Pix[i] = pix[i%len(pix)] ^ byte(i*7)
			}
		}
		s := &Scanner{}
		for range 2 { // the second frame starts from what the first learnt
			if _, err := s.Decode(context.Background(), img); err != nil && !errors.Is(err, ErrNotFound) {
				t.Fatalf("unexpected error kind: %v", err)
			}
		}
		for _, rung := range []string{rungSmooth, rungStretch, rungZoom, rungZoomSmooth, rungZoomGlobal, rungHalf} {
			fr := &frame{full: lumaPlane(img), roi: img.Bounds()}
			if fr.full.w >= 2 && fr.full.h >= 2 {
				fr.try(rung)
			}
		}
	})
}
