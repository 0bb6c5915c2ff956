package qr

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/makiuchi-d/gozxing"
)

func TestLumaPlane(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 4, 3))
	for i := range gray.Pix {
		gray.Pix[i] = byte(i * 10)
	}
	ycc := image.NewYCbCr(image.Rect(0, 0, 4, 3), image.YCbCrSubsampleRatio420)
	copy(ycc.Y, gray.Pix)
	rgba := image.NewRGBA(image.Rect(0, 0, 4, 3))
	for i, v := range gray.Pix {
		rgba.Set(i%4, i/4, color.RGBA{v, v, v, 255})
	}
	for name, c := range map[string]struct {
		img    image.Image
		want   []byte
		shared bool
	}{
		"GrayUsedInPlace":    {gray, gray.Pix, true},
		"YCbCrLumaInPlace":   {ycc, gray.Pix, true},
		"RGBAConverted":      {rgba, gray.Pix, false},
		"SubImageRowsPacked": {gray.SubImage(image.Rect(1, 1, 3, 3)), []byte{50, 60, 90, 100}, false},
	} {
		t.Run(name, func(t *testing.T) {
			p := lumaPlane(c.img)
			if !bytes.Equal(p.pix, c.want) {
				t.Fatalf("plane %v, want %v", p.pix, c.want)
			}
			if p.w*p.h != len(p.pix) {
				t.Fatalf("plane %dx%d holds %d bytes", p.w, p.h, len(p.pix))
			}
			if shared := &p.pix[0] == &gray.Pix[0] || (len(ycc.Y) > 0 && &p.pix[0] == &ycc.Y[0]); shared != c.shared {
				t.Fatalf("shares the frame's memory: %v, want %v", shared, c.shared)
			}
		})
	}
}

func TestPlaneFilters(t *testing.T) {
	p := plane{pix: []byte{
		0, 0, 200, 200,
		0, 0, 200, 200,
		100, 100, 100, 100,
		100, 100, 100, 100,
	}, w: 4, h: 4}
	t.Run("HalfAveragesBlocks", func(t *testing.T) {
		h := p.half()
		if want := []byte{0, 200, 100, 100}; !bytes.Equal(h.pix, want) || h.w != 2 || h.h != 2 {
			t.Fatalf("half = %v (%dx%d), want %v", h.pix, h.w, h.h, want)
		}
	})
	t.Run("SmoothKeepsFlatAreasAndSize", func(t *testing.T) {
		flat := plane{pix: bytes.Repeat([]byte{77}, 30), w: 6, h: 5}
		s := flat.smooth()
		if !bytes.Equal(s.pix, flat.pix) {
			t.Fatalf("smoothing a flat plane changed it: %v", s.pix)
		}
		if s := p.smooth(); s.pix[1*4+1] == 0 || s.pix[1*4+1] >= 200 {
			t.Fatalf("edge pixel not blended: %d", s.pix[5])
		}
	})
	t.Run("DoubleKeepsCornersAndDoublesSize", func(t *testing.T) {
		d := p.double()
		if d.w != 8 || d.h != 8 {
			t.Fatalf("double is %dx%d", d.w, d.h)
		}
		if d.pix[0] != 0 || d.pix[7] != 200 || d.pix[63] != 100 {
			t.Fatalf("corners %d %d %d, want 0 200 100", d.pix[0], d.pix[7], d.pix[63])
		}
	})
	t.Run("SharpenKeepsFlatAreasAndSteepensEdges", func(t *testing.T) {
		flat := plane{pix: bytes.Repeat([]byte{77}, 64), w: 8, h: 8}
		if s := flat.sharpen(); !bytes.Equal(s.pix, flat.pix) {
			t.Fatalf("sharpening a flat plane changed it: %v", s.pix)
		}
		edge := plane{pix: make([]byte, 64), w: 8, h: 8}
		for i := range edge.pix {
			edge.pix[i] = byte(60 + 80*min(i%8/4, 1)) // 60 | 140, split between columns 3 and 4
		}
		s := edge.sharpen()
		if dark, light := s.pix[3*8+3], s.pix[3*8+4]; dark >= 60 || light <= 140 {
			t.Fatalf("edge %d|%d after sharpening, want darker than 60 and lighter than 140", dark, light)
		}
	})
	t.Run("AtInterpolatesBetweenPixelCentres", func(t *testing.T) {
		for _, c := range []struct {
			x, y float64
			want float64
			ok   bool
		}{
			{0, 0, 0, true}, {1.5, 0, 100, true}, {3, 3, 100, true}, {0.5, 1.5, 50, true},
			{-0.6, 0, 0, false}, {0, 3.6, 0, false},
		} {
			v, ok := p.at(c.x, c.y)
			if ok != c.ok || (ok && v != c.want) {
				t.Errorf("at(%v, %v) = %v, %v; want %v, %v", c.x, c.y, v, ok, c.want, c.ok)
			}
		}
	})
	t.Run("CropCopiesTheRectangle", func(t *testing.T) {
		c := p.crop(image.Rect(1, 1, 3, 3))
		if want := []byte{0, 200, 100, 100}; !bytes.Equal(c.pix, want) {
			t.Fatalf("crop = %v, want %v", c.pix, want)
		}
	})
}

func TestLuminanceSource(t *testing.T) {
	p := plane{pix: []byte{1, 2, 3, 4, 5, 6}, w: 3, h: 2}
	l := newLuminance(p)
	t.Run("RowIsACopy", func(t *testing.T) {
		row, err := l.GetRow(1, nil)
		if err != nil || !bytes.Equal(row, []byte{4, 5, 6}) {
			t.Fatalf("row = %v, %v", row, err)
		}
		row[0] = 99
		if p.pix[3] != 4 {
			t.Fatal("GetRow handed out the frame's memory")
		}
	})
	t.Run("InvertedRowsLeaveThePlaneAlone", func(t *testing.T) {
		row, err := l.Invert().GetRow(0, make([]byte, 3))
		if err != nil || !bytes.Equal(row, []byte{254, 253, 252}) {
			t.Fatalf("inverted row = %v, %v", row, err)
		}
		if p.pix[0] != 1 {
			t.Fatal("inverting modified the plane")
		}
	})
	t.Run("RowOutOfRange", func(t *testing.T) {
		for _, y := range []int{-1, 2} {
			if _, err := l.GetRow(y, nil); err == nil {
				t.Fatalf("row %d: no error", y)
			}
		}
	})
	t.Run("MatchesGozxingOwnSource", func(t *testing.T) {
		img := image.NewGray(image.Rect(0, 0, 3, 2))
		copy(img.Pix, p.pix)
		ref := gozxing.NewLuminanceSourceFromImage(img)
		if !bytes.Equal(ref.GetMatrix(), l.GetMatrix()) || ref.GetWidth() != l.GetWidth() || ref.GetHeight() != l.GetHeight() {
			t.Fatalf("matrix %v (%dx%d), gozxing's %v", l.GetMatrix(), l.GetWidth(), l.GetHeight(), ref.GetMatrix())
		}
	})
}

// A degenerate module map yields NaN positions; they must read as outside the picture, not
// index the plane with MinInt (which aborted the whole attempt, see TestScannerFinderLikeData).
func TestPlaneAtOutside(t *testing.T) {
	p := plane{pix: make([]byte, 6), w: 3, h: 2}
	for _, c := range []struct{ x, y float64 }{
		{math.NaN(), 1}, {1, math.NaN()}, {math.Inf(1), 0}, {math.Inf(-1), 0}, {-0.6, 0}, {0, 1.6},
	} {
		if _, ok := p.at(c.x, c.y); ok {
			t.Errorf("at(%v, %v) inside, want outside", c.x, c.y)
		}
	}
	if _, ok := p.at(2.5, 1.5); !ok {
		t.Error("at(2.5, 1.5) outside, want the last pixel's edge inside")
	}
}
