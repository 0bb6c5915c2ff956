package dlib

import (
	"context"
	"encoding/csv"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ikd-field/ikd/internal/shareddata"
	"github.com/ikd-field/ikd/internal/slowtest"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/facetest"
	"github.com/ikd-field/ikd/kiosk/face/quality"
)

// adjust returns a copy of a YCbCr frame with every luma value mapped by f.
func adjust(m *image.YCbCr, f func(v float64) float64) *image.YCbCr {
	out := *m
	out.Y = make([]uint8, len(m.Y))
	for i, v := range m.Y {
		out.Y[i] = uint8(max(0, min(255, f(float64(v)))))
	}
	return &out
}

// defocus box-blurs the luma plane inside r (3×3, repeated) until the blur's standard
// deviation is sigma pixels, as an out-of-focus lens would.
func defocus(m *image.YCbCr, r image.Rectangle, sigma float64) *image.YCbCr {
	out := adjust(m, func(v float64) float64 { return v })
	r = r.Intersect(m.Rect).Inset(1)
	passes := int(math.Ceil(1.5 * sigma * sigma)) // one 3×3 box pass has variance 2/3
	for range passes {
		src := append([]uint8(nil), out.Y...)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				s := 0
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						s += int(src[out.YOffset(x+dx, y+dy)])
					}
				}
				out.Y[out.YOffset(x, y)] = uint8(s / 9)
			}
		}
	}
	return out
}

// TestSlowQualityOnSharedPhotos: the publicity photos are sharp and well lit, so none may fail
// on light or focus; darkened, brightened, flattened and blurred copies must each fail with
// their own hint. Pose hints are not asserted: many photos are posed with a tilted head.
func TestSlowQualityOnSharedPhotos(t *testing.T) {
	slowtest.Skip(t, "describes every shared photo and four variants of six")
	dir := shareddata.Require(t, "testdata", "faces")
	f, err := os.Open(filepath.Join(dir, "MANIFEST.csv"))
	if err != nil {
		t.Skipf("shared photos absent (%v)", err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	opt := face.DefaultOptions()
	opt.DetectWidth = 1024 // stills: detect at full size, as the manifest's hog_faces did
	a := mustAnalyzer(t, opt)
	photometric := map[string]bool{"face.too_dark": true, "face.too_bright": true, "face.low_contrast": true, "face.blurry": true}
	checked := 0
	for _, row := range rows[1:] {
		if row[4] != "1" {
			continue
		}
		frame := toYCbCr(facetest.SharedPhoto(t, row[0]))
		obs, err := a.Analyze(context.Background(), frame)
		if err != nil {
			t.Errorf("%s: %v", row[0], err)
			continue
		}
		checked++
		for _, h := range obs.Quality.Failures {
			if photometric[h.Code] {
				t.Errorf("%s: original fails %s (%+v)", row[0], h.Code, obs.Quality.Pixels)
			}
		}
		if checked > 6 {
			continue // the variants of a few photos are enough
		}
		for _, v := range []struct {
			name  string
			frame *image.YCbCr
			want  quality.Hint
		}{
			{"Dark", adjust(frame, func(v float64) float64 { return v * 0.25 }), quality.HintTooDark},
			{"Overexposed", adjust(frame, func(v float64) float64 { return 150 + v*0.6 }), quality.HintTooBright},
			{"Flat", adjust(frame, func(v float64) float64 { return 128 + (v-128)*0.2 }), quality.HintLowContrast},
			// Blur of 2 px at the gate's 96 px crop scale (the crop is 2·IOD wide).
			{"Defocused", defocus(frame, quality.FaceCrop(obs.Landmarks, obs.Quality.Pose).Inset(-4), 2*2*obs.Quality.Pose.IOD/96), quality.HintBlurry},
		} {
			rep, err := opt.Quality.Check(v.frame, obs.Landmarks) // same face position
			if err != nil {
				t.Fatal(err)
			}
			if !hasHint(rep.Failures, v.want) {
				t.Errorf("%s %s: failures %v (%+v), want %s", row[0], v.name, rep.Failures, rep.Pixels, v.want.Code)
			}
		}
	}
	if checked < 25 {
		t.Errorf("only %d photos analysed", checked)
	}
}

func hasHint(hs []quality.Hint, h quality.Hint) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}
