package facebench

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
)

// toYCbCr converts m into a 4:2:0 frame, the layout a webcam delivers.
func toYCbCr(m image.Image) *image.YCbCr {
	b := m.Bounds()
	out := image.NewYCbCr(b, image.YCbCrSubsampleRatio420)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := m.At(x, y).RGBA()
			yy, cb, cr := color.RGBToYCbCr(uint8(r>>8), uint8(g>>8), uint8(bl>>8))
			out.Y[out.YOffset(x, y)] = yy
			if (x-b.Min.X)%2 == 0 && (y-b.Min.Y)%2 == 0 {
				ci := out.COffset(x, y)
				out.Cb[ci], out.Cr[ci] = cb, cr
			}
		}
	}
	return out
}

func encodeJPEG(m image.Image) ([]byte, error) {
	var buf bytes.Buffer
	err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90})
	return buf.Bytes(), err
}
