package camera

import (
	"flag"
	"image"
	"image/png"
	"os"
	"testing"
)

var updateSynthetic = flag.Bool("update-synthetic", false, "rewrite the synthetic scene golden file")

// TestRenderGolden pins what the renderer draws, so a change to the scene model (and with it
// every robustness threshold measured on it) is a visible, reviewed change. Rewrite with
// `go test ./camera -run Golden -update-synthetic`.
func TestRenderGolden(t *testing.T) {
	const path = "../testdata/qr/synthetic-golden.png"
	img := mustGray(t, SceneOptions{
		Text: testText, Width: 240, Height: 180, ModulePx: 3, RotationDeg: 20, PerspectiveDeg: 15,
		Blur: 0.8, Noise: 4, Contrast: 0.8, Glare: 0.3, Moire: 0.4, Seed: 42,
	})
	if *updateSynthetic {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("golden file missing (run with -update): %v", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if want.Bounds() != img.Bounds() {
		t.Fatalf("golden is %v, render is %v", want.Bounds(), img.Bounds())
	}
	// Allow rounding differences (fused multiply-add on some CPUs), not a different scene.
	off := 0
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			g := want.(*image.Gray).GrayAt(x, y).Y
			if d := int(img.GrayAt(x, y).Y) - int(g); d > 2 || d < -2 {
				off++
			}
		}
	}
	if off > 0 {
		t.Fatalf("%d pixels differ from %s by more than 2 grey levels", off, path)
	}
}
