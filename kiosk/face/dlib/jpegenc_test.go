package dlib

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// TestEncodeJPEG checks the libjpeg path against the source pixels for every layout a frame
// can have, and that the result is a 3-component JPEG (go-face rejects grey ones).
func TestEncodeJPEG(t *testing.T) {
	gradient := func(ratio image.YCbCrSubsampleRatio) *image.YCbCr {
		m := image.NewYCbCr(image.Rect(0, 0, 96, 64), ratio)
		for y := range 64 {
			for x := range 96 {
				m.Y[m.YOffset(x, y)] = uint8(x + y)
				ci := m.COffset(x, y)
				m.Cb[ci], m.Cr[ci] = uint8(100+x/2), uint8(160-y/2)
			}
		}
		return m
	}
	for _, tc := range []struct {
		name string
		m    *image.YCbCr
	}{
		{"Webcam422", gradient(image.YCbCrSubsampleRatio422)},
		{"Scaled420", gradient(image.YCbCrSubsampleRatio420)},
		{"Full444", gradient(image.YCbCrSubsampleRatio444)},
		{"Ratio440", gradient(image.YCbCrSubsampleRatio440)},
		{"GoFallback411", gradient(image.YCbCrSubsampleRatio411)},
		{"OddSubImage", gradient(image.YCbCrSubsampleRatio420).SubImage(image.Rect(13, 7, 90, 61)).(*image.YCbCr)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := encodeJPEG(tc.m, 95)
			if err != nil {
				t.Fatal(err)
			}
			got, err := jpeg.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if got.Bounds().Size() != tc.m.Rect.Size() {
				t.Fatalf("size %v, want %v", got.Bounds().Size(), tc.m.Rect.Size())
			}
			if _, ok := got.(*image.YCbCr); !ok {
				t.Fatalf("decoded as %T, want a 3-component YCbCr JPEG", got)
			}
			off := got.Bounds().Min.Sub(tc.m.Rect.Min)
			for _, p := range []image.Point{{20, 10}, {60, 40}, {80, 55}} {
				want := color.RGBAModel.Convert(tc.m.At(p.X, p.Y)).(color.RGBA)
				have := color.RGBAModel.Convert(got.At(p.X+off.X, p.Y+off.Y)).(color.RGBA)
				if absDiff(want.R, have.R) > 12 || absDiff(want.G, have.G) > 12 || absDiff(want.B, have.B) > 12 {
					t.Fatalf("pixel %v: %v, want about %v", p, have, want)
				}
			}
		})
	}
	t.Run("MalformedPlanes", func(t *testing.T) {
		m := gradient(image.YCbCrSubsampleRatio420)
		m.Cb = m.Cb[:10]
		if _, err := encodeJPEG(m, 90); err == nil {
			t.Fatal("short chroma plane accepted")
		}
	})
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func BenchmarkEncodeJPEG640x360(b *testing.B) {
	m := image.NewYCbCr(image.Rect(0, 0, 640, 360), image.YCbCrSubsampleRatio420)
	for i := range m.Y {
		m.Y[i] = uint8(i * 7 % 251)
	}
	neutralChroma(m)
	for b.Loop() {
		if _, err := encodeJPEG(m, 90); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGoImageJPEG640x360(b *testing.B) {
	m := image.NewYCbCr(image.Rect(0, 0, 640, 360), image.YCbCrSubsampleRatio420)
	for i := range m.Y {
		m.Y[i] = uint8(i * 7 % 251)
	}
	neutralChroma(m)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
			b.Fatal(err)
		}
	}
}

// neutralChroma makes m grey.
func neutralChroma(m *image.YCbCr) {
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = 128, 128
	}
}
