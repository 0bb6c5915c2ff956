package qr

import (
	"context"
	"fmt"
	"image"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Plain is gozxing used the documented way (NewBinaryBitmapFromImage, hybrid binarizer,
// QR reader, no hints). It is the baseline the Scanner is measured against.
type Plain struct{}

// Decode implements Decoder.
func (Plain) Decode(ctx context.Context, img image.Image) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", fmt.Errorf("qr: prepare image: %w", err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return res.GetText(), nil
}

var _ Decoder = Plain{}
