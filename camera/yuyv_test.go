package camera

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"testing"
)

// naiveYUYV is the obvious per-pixel conversion, the oracle for the fast one.
func naiveYUYV(src []byte, w, h int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio422)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x += 2 {
			p := src[(y*w+x)*2:]
			img.Y[img.YOffset(x, y)] = p[0]
			img.Y[img.YOffset(x+1, y)] = p[2]
			img.Cb[img.COffset(x, y)] = p[1]
			img.Cr[img.COffset(x, y)] = p[3]
		}
	}
	return img
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestYUYVToYCbCrMatchesNaive(t *testing.T) {
	// Widths that exercise the 8-pixel fast loop, its tail, and both together.
	for _, sz := range []Size{{2, 1}, {4, 3}, {6, 2}, {8, 1}, {10, 3}, {16, 9}, {18, 5}, {640, 480}, {1280, 720}} {
		t.Run(sz.String(), func(t *testing.T) {
			src := randomBytes(sz.Width*sz.Height*2, uint64(sz.Width*sz.Height))
			got, err := YUYVToYCbCr(src, sz.Width, sz.Height)
			if err != nil {
				t.Fatal(err)
			}
			want := naiveYUYV(src, sz.Width, sz.Height)
			if got.SubsampleRatio != image.YCbCrSubsampleRatio422 || got.Rect != want.Rect {
				t.Fatalf("got %v %v, want 4:2:2 %v", got.SubsampleRatio, got.Rect, want.Rect)
			}
			if !bytes.Equal(got.Y, want.Y) || !bytes.Equal(got.Cb, want.Cb) || !bytes.Equal(got.Cr, want.Cr) {
				t.Fatal("planes differ from the per-pixel conversion")
			}
		})
	}
}

func TestYUYVToGrayMatchesY(t *testing.T) {
	for _, sz := range []Size{{2, 1}, {6, 3}, {8, 2}, {14, 3}, {640, 480}} {
		t.Run(sz.String(), func(t *testing.T) {
			src := randomBytes(sz.Width*sz.Height*2, 7)
			got, err := YUYVToGray(src, sz.Width, sz.Height)
			if err != nil {
				t.Fatal(err)
			}
			if want := naiveYUYV(src, sz.Width, sz.Height).Y; !bytes.Equal(got.Pix, want) {
				t.Fatal("grey picture differs from the Y plane")
			}
		})
	}
}

func TestYUYVBadInput(t *testing.T) {
	tests := []struct {
		name string
		n    int
		w, h int
	}{
		{"ShortBuffer", 8*4*2 - 1, 8, 4},
		{"LongBuffer", 8*4*2 + 2, 8, 4},
		{"EmptyBuffer", 0, 8, 4},
		{"OddWidth", 7 * 4 * 2, 7, 4},
		{"ZeroHeight", 0, 8, 0},
		{"NegativeWidth", 16, -4, 2},
		{"HugeSize", 16, 1 << 20, 1 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := make([]byte, tc.n)
			if _, err := YUYVToYCbCr(src, tc.w, tc.h); !errors.Is(err, ErrBadYUYV) {
				t.Errorf("YUYVToYCbCr err = %v, want ErrBadYUYV", err)
			}
			if _, err := YUYVToGray(src, tc.w, tc.h); !errors.Is(err, ErrBadYUYV) {
				t.Errorf("YUYVToGray err = %v, want ErrBadYUYV", err)
			}
		})
	}
}

var benchSizes = []Size{{1280, 720}, {640, 480}}

func BenchmarkYUYVToYCbCr(b *testing.B) {
	for _, sz := range benchSizes {
		src := randomBytes(sz.Width*sz.Height*2, 1)
		b.Run(sz.String(), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if _, err := YUYVToYCbCr(src, sz.Width, sz.Height); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkYUYVSplitOnly measures the de-interleaving alone, into reused planes.
func BenchmarkYUYVSplitOnly(b *testing.B) {
	for _, sz := range benchSizes {
		src := randomBytes(sz.Width*sz.Height*2, 1)
		img := image.NewYCbCr(image.Rect(0, 0, sz.Width, sz.Height), image.YCbCrSubsampleRatio422)
		b.Run(sz.String(), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				splitYUYV(img.Y, img.Cb, img.Cr, src)
			}
		})
	}
}

func BenchmarkYUYVToGray(b *testing.B) {
	for _, sz := range benchSizes {
		src := randomBytes(sz.Width*sz.Height*2, 1)
		b.Run(sz.String(), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if _, err := YUYVToGray(src, sz.Width, sz.Height); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkYUYVNaive is the per-pixel reference, for comparison.
func BenchmarkYUYVNaive(b *testing.B) {
	for _, sz := range benchSizes {
		src := randomBytes(sz.Width*sz.Height*2, 1)
		b.Run(sz.String(), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				naiveYUYV(src, sz.Width, sz.Height)
			}
		})
	}
}

func ExampleYUYVToYCbCr() {
	// Two pixels: Y0=16 U=128 Y1=235 V=128.
	img, err := YUYVToYCbCr([]byte{16, 128, 235, 128}, 2, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(img.Y, img.Cb, img.Cr)
	// Output: [16 235] [128] [128]
}
