package qr

import (
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // the formats ReadImage decodes
	_ "image/png"
	"io"
	"os"

	_ "golang.org/x/image/webp"
)

// MaxImagePixels bounds the pictures ReadImage decodes. A 50-megapixel phone photo
// (8160×6120) fits; decoding allocates all pixels up front (up to 8 bytes each for a 16-bit
// PNG), so a small file declaring 20000×20000 would otherwise take gigabytes.
const MaxImagePixels = 50_000_000

// ErrImageTooLarge: the picture declares more than MaxImagePixels pixels.
var ErrImageTooLarge = errors.New("qr: image too large")

// ReadImageFile decodes the PNG, JPEG or WebP picture in file; see ReadImage.
func ReadImageFile(file string) (image.Image, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadImage(f)
}

// ReadImage decodes a PNG, JPEG or WebP picture from the start of r. It reads the header first and
// refuses, with ErrImageTooLarge, a picture larger than MaxImagePixels before any pixel
// memory is allocated.
func ReadImage(r io.ReadSeeker) (image.Image, error) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return nil, fmt.Errorf("not a PNG, JPEG or WebP image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("image declares no pixels (%d×%d)", cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > MaxImagePixels {
		return nil, fmt.Errorf("%w: %d×%d is %d pixels, more than %d", ErrImageTooLarge, cfg.Width, cfg.Height, px, MaxImagePixels)
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
