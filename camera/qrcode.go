package camera

import (
	"fmt"
	"image"
	"image/color"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/encoder"
)

// QRQuietZone is the blank border in modules that ISO/IEC 18004 requires around a QR code.
const QRQuietZone = 4

// QRModules encodes text at error-correction level M (what a phone app would use) and
// returns its modules without a quiet zone, true = dark, and the QR version. Every QR the
// project draws (synthetic camera scenes, `ikdctl qr make`) is encoded here.
func QRModules(text string) (*gozxing.BitMatrix, int, error) {
	code, werr := encoder.Encoder_encodeWithoutHint(text, decoder.ErrorCorrectionLevel_M)
	if werr != nil {
		return nil, 0, fmt.Errorf("encode QR: %w", werr)
	}
	m := code.GetMatrix()
	bits, err := gozxing.NewBitMatrix(m.GetWidth(), m.GetHeight())
	if err != nil {
		return nil, 0, fmt.Errorf("encode QR: %w", err)
	}
	for y := 0; y < m.GetHeight(); y++ {
		for x := 0; x < m.GetWidth(); x++ {
			if m.Get(x, y) == 1 {
				bits.Set(x, y)
			}
		}
	}
	return bits, code.GetVersion().GetVersionNumber(), nil
}

// DrawQR draws text as a printable QR code: scale pixels per module, black on white, with
// the quiet zone. It returns the QR version.
func DrawQR(text string, scale int) (*image.Gray, int, error) {
	if scale < 1 {
		return nil, 0, fmt.Errorf("draw QR: scale %d is below 1", scale)
	}
	m, version, err := QRModules(text)
	if err != nil {
		return nil, 0, err
	}
	side := (m.GetWidth() + 2*QRQuietZone) * scale
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y := 0; y < m.GetHeight(); y++ {
		for x := 0; x < m.GetWidth(); x++ {
			if !m.Get(x, y) {
				continue
			}
			x0, y0 := (x+QRQuietZone)*scale, (y+QRQuietZone)*scale
			for py := y0; py < y0+scale; py++ {
				for px := x0; px < x0+scale; px++ {
					img.SetGray(px, py, color.Gray{})
				}
			}
		}
	}
	return img, version, nil
}
