package camera

import (
	"bytes"
	"context"
	"errors"
	"image"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

const testText = "IKD1:SYNTHETIC SCENE TEST 0123456789"

// readQR decodes img with stock gozxing: the renderer must draw codes a reader can read.
func readQR(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

func TestRenderSizesAndTypes(t *testing.T) {
	cases := map[string]struct {
		opts SceneOptions
		want image.Rectangle
	}{
		"Default720p": {SceneOptions{Text: testText}, image.Rect(0, 0, 1280, 720)},
		"VGA":         {SceneOptions{Text: testText, Width: 640, Height: 480}, image.Rect(0, 0, 640, 480)},
		"YCbCr":       {SceneOptions{Text: testText, Width: 640, Height: 480, YCbCr: true}, image.Rect(0, 0, 640, 480)},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			img, err := Render(c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds() != c.want {
				t.Fatalf("bounds %v, want %v", img.Bounds(), c.want)
			}
			switch img.(type) {
			case *image.YCbCr:
				if !c.opts.YCbCr {
					t.Fatal("got YCbCr without asking")
				}
			case *image.Gray:
				if c.opts.YCbCr {
					t.Fatal("asked for YCbCr, got Gray")
				}
			default:
				t.Fatalf("unexpected image type %T", img)
			}
			got, err := readQR(img)
			if err != nil || got != testText {
				t.Fatalf("rendered code reads %q, %v; want %q", got, err, testText)
			}
		})
	}
}

func TestRenderImpairmentsChangeThePicture(t *testing.T) {
	base := SceneOptions{Text: testText, Width: 320, Height: 240, ModulePx: 3, Seed: 7}
	ref := mustGray(t, base)
	for name, change := range map[string]func(*SceneOptions){
		"Rotation":    func(o *SceneOptions) { o.RotationDeg = 30 },
		"Perspective": func(o *SceneOptions) { o.PerspectiveDeg = 30 },
		"Blur":        func(o *SceneOptions) { o.Blur = 1.5 },
		"Noise":       func(o *SceneOptions) { o.Noise = 10 },
		"Contrast":    func(o *SceneOptions) { o.Contrast = 0.3 },
		"Glare":       func(o *SceneOptions) { o.Glare = 0.8 },
		"Moire":       func(o *SceneOptions) { o.Moire = 0.8 },
		"Inverted":    func(o *SceneOptions) { o.Inverted = true },
		"OtherSeed":   func(o *SceneOptions) { o.Seed = 8 },
	} {
		t.Run(name, func(t *testing.T) {
			o := base
			change(&o)
			if bytes.Equal(mustGray(t, o).Pix, ref.Pix) {
				t.Fatal("impairment left the picture unchanged")
			}
		})
	}
	t.Run("SameSeedSamePicture", func(t *testing.T) {
		if !bytes.Equal(mustGray(t, base).Pix, ref.Pix) {
			t.Fatal("two renders of the same options differ")
		}
	})
}

func TestRenderLowContrastNarrowsTheRange(t *testing.T) {
	// Large modules: the code fills the middle of the frame, which is what is measured.
	o := SceneOptions{Text: testText, Width: 320, Height: 240, ModulePx: 8, Seed: 3}
	full := mustGray(t, o)
	o.Contrast = 0.2
	low := mustGray(t, o)
	centre := image.Rect(130, 90, 190, 150)
	f, l := spread(full.SubImage(centre).(*image.Gray)), spread(low.SubImage(centre).(*image.Gray))
	if l*3 > f {
		t.Fatalf("contrast 0.2 spread %d, full contrast %d: want at most a third", l, f)
	}
}

func TestRenderNoCodeScene(t *testing.T) {
	img := mustGray(t, SceneOptions{Width: 640, Height: 480, Seed: 1})
	if text, err := readQR(img); err == nil {
		t.Fatalf("scene without a code read as %q", text)
	}
}

func TestRenderRejectsBadOptions(t *testing.T) {
	for name, o := range map[string]SceneOptions{
		"TinyFrame":           {Width: 10, Height: 10},
		"HugeModule":          {ModulePx: 100},
		"NegativePerspective": {PerspectiveDeg: -5},
		"TooMuchNoise":        {Noise: 500},
		"ContrastAboveOne":    {Contrast: 1.5},
		"GlareAboveOne":       {Glare: 2},
		"TextTooLong":         {Text: string(make([]byte, 8000))},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Render(o); !errors.Is(err, ErrSceneOptions) {
				t.Fatalf("err = %v, want ErrSceneOptions", err)
			}
		})
	}
}

func TestSyntheticSource(t *testing.T) {
	ctx := context.Background()
	t.Run("SteadySceneFreshNoise", func(t *testing.T) {
		src, err := NewSyntheticSource(SceneOptions{Text: testText, Width: 320, Height: 240, Noise: 5, Seed: 1}, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		f1, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f2, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f1.Seq != 1 || f2.Seq != 2 {
			t.Fatalf("seq %d, %d; want 1, 2", f1.Seq, f2.Seq)
		}
		if bytes.Equal(f1.Image.(*image.Gray).Pix, f2.Image.(*image.Gray).Pix) {
			t.Fatal("consecutive frames have identical noise")
		}
		if f2.Captured.Before(f1.Captured) {
			t.Fatal("capture times go backwards")
		}
	})
	t.Run("ClosedSourceFails", func(t *testing.T) {
		src, err := NewSyntheticSource(SceneOptions{Width: 64, Height: 64}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
		if err := src.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := src.Next(ctx); !errors.Is(err, ErrSourceClosed) {
			t.Fatalf("Next after Close: %v, want ErrSourceClosed", err)
		}
	})
	t.Run("PacedSourceHonoursCancel", func(t *testing.T) {
		src, err := NewSyntheticSource(SceneOptions{Width: 64, Height: 64}, 0.5) // one frame per 2 s
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		if _, err := src.Next(ctx); err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		if _, err := src.Next(cctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Next while waiting for the frame slot: %v, want deadline exceeded", err)
		}
	})
	t.Run("NegativeFPS", func(t *testing.T) {
		if _, err := NewSyntheticSource(SceneOptions{}, -1); !errors.Is(err, ErrSceneOptions) {
			t.Fatalf("err = %v, want ErrSceneOptions", err)
		}
	})
}

func mustGray(t *testing.T, o SceneOptions) *image.Gray {
	t.Helper()
	img, err := Render(o)
	if err != nil {
		t.Fatal(err)
	}
	return img.(*image.Gray)
}

// spread is the distance between the 2nd and 98th percentile grey levels.
func spread(g *image.Gray) int {
	var hist [256]int
	n := 0
	for y := g.Rect.Min.Y; y < g.Rect.Max.Y; y++ {
		for x := g.Rect.Min.X; x < g.Rect.Max.X; x++ {
			hist[g.GrayAt(x, y).Y]++
			n++
		}
	}
	lo, hi, acc := -1, -1, 0
	for v, c := range hist {
		acc += c
		if lo < 0 && acc > n*2/100 {
			lo = v
		}
		if hi < 0 && acc >= n*98/100 {
			hi = v
		}
	}
	return hi - lo
}

func BenchmarkSyntheticSourceNext(b *testing.B) {
	src, err := NewSyntheticSource(SceneOptions{Text: testText, Noise: 8}, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	for b.Loop() {
		if _, err := src.Next(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
