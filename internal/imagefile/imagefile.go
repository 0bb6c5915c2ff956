// Package imagefile decodes still pictures from files (QR photos, face photos, replayed camera
// frames) in one place, refusing a picture whose header declares more pixels than a camera
// makes before any pixel memory is allocated.
package imagefile

import (
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // the formats Decode reads
	_ "image/png"
	"io"
	"os"

	_ "golang.org/x/image/webp"
)

// MaxPixels bounds the pictures Decode reads. A 50-megapixel phone photo
// (8160×6120) fits; decoding allocates all pixels up front (up to 8 bytes each for a 16-bit
// PNG), so a small file declaring 20000×20000 would otherwise take gigabytes.
const MaxPixels = 50_000_000

// ErrTooLarge: the picture declares more than MaxPixels pixels.
var ErrTooLarge = errors.New("image too large")

// Read decodes the PNG, JPEG or WebP picture in file; see Decode.
func Read(file string) (image.Image, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Decode(f)
}

// Decode decodes a PNG, JPEG or WebP picture from the start of r. It reads the header first and
// refuses, with ErrTooLarge, a picture larger than MaxPixels before any pixel
// memory is allocated.
func Decode(r io.ReadSeeker) (image.Image, error) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return nil, fmt.Errorf("not a PNG, JPEG or WebP image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("image declares no pixels (%d×%d)", cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > MaxPixels {
		return nil, fmt.Errorf("%w: %d×%d is %d pixels, more than %d", ErrTooLarge, cfg.Width, cfg.Height, px, MaxPixels)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind image: %w", err)
	}
	img, _, err := image.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("not a PNG, JPEG or WebP image: %w", err)
	}
	return img, nil
}
