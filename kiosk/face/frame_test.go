package face

import (
	"image"
	"image/color"
	"testing"
)

func TestScaledYCbCr(t *testing.T) {
	src := image.NewYCbCr(image.Rect(0, 0, 8, 4), image.YCbCrSubsampleRatio420)
	for y := range 4 {
		for x := range 8 {
			src.Y[y*src.YStride+x] = uint8(10*x + y)
		}
	}
	for i := range src.Cb {
		src.Cb[i], src.Cr[i] = 100, 150
	}
	t.Run("BoxMeanByTwo", func(t *testing.T) {
		m := scaledYCbCr(src, src.Bounds(), 2)
		if m.Bounds() != image.Rect(0, 0, 4, 2) {
			t.Fatalf("bounds %v", m.Bounds())
		}
		// Block (x 2..3, y 0..1): values 20,30,21,31 → mean 25.5 → 26 (rounded).
		if got := m.Y[1]; got != 26 {
			t.Fatalf("Y[1] = %d, want 26", got)
		}
		if m.Cb[0] != 100 || m.Cr[0] != 150 {
			t.Fatalf("chroma %d %d", m.Cb[0], m.Cr[0])
		}
	})
	t.Run("FactorOneIsASubImage", func(t *testing.T) {
		r := image.Rect(2, 0, 6, 4)
		if m := scaledYCbCr(src, r, 1); m.Bounds() != r || &m.Y[0] != &src.Y[2] {
			t.Fatal("factor 1 on a YCbCr frame copied the pixels")
		}
	})
	t.Run("RGBAMatchesColourModel", func(t *testing.T) {
		rgba := image.NewRGBA(image.Rect(0, 0, 4, 4))
		for i := range 16 {
			rgba.Set(i%4, i/4, color.RGBA{200, 40, 90, 255})
		}
		m := scaledYCbCr(rgba, rgba.Bounds(), 2)
		y, cb, cr := color.RGBToYCbCr(200, 40, 90)
		if m.Y[0] != y || m.Cb[0] != cb || m.Cr[0] != cr {
			t.Fatalf("got %d %d %d want %d %d %d", m.Y[0], m.Cb[0], m.Cr[0], y, cb, cr)
		}
	})
	t.Run("GrayGetsNeutralChroma", func(t *testing.T) {
		g := image.NewGray(image.Rect(0, 0, 4, 4))
		m := scaledYCbCr(g, g.Bounds(), 2)
		if m.Cb[0] != 128 || m.Cr[0] != 128 {
			t.Fatal("grey frame got colour")
		}
	})
}
