package qr

import (
	"image"
	"testing"

	"github.com/ikd-field/ikd/camera"
)

func TestSmallFinders(t *testing.T) {
	for name, c := range map[string]struct {
		scene    camera.SceneOptions
		wantCode bool
	}{
		"TwoPixelModules":   {camera.SceneOptions{ModulePx: 2, Blur: 0.6, Noise: 3, Text: "IKD1:SMALL MODULES 0123456789", Seed: 3}, true},
		"NoCodeOnTheScreen": {camera.SceneOptions{Noise: 3, Seed: 3}, false},
	} {
		t.Run(name, func(t *testing.T) {
			c.scene.Width, c.scene.Height = 640, 480
			img, err := camera.Render(c.scene)
			if err != nil {
				t.Fatal(err)
			}
			p := lumaPlane(img)
			bits, err := hybridBits(p)
			if err != nil {
				t.Fatal(err)
			}
			fs := smallFinders(bits)
			area := smallCodeArea(fs, image.Rect(0, 0, p.w, p.h))
			if got := !area.Empty(); got != c.wantCode {
				t.Fatalf("%d small finders, code area %v; want a code area: %v", len(fs), area, c.wantCode)
			}
			for _, f := range fs {
				if f.ms < 1 || f.ms > 2.6 {
					t.Errorf("finder at (%.0f,%.0f) with %.1f px modules", f.x, f.y, f.ms)
				}
			}
		})
	}
}

func TestSmallCodeArea(t *testing.T) {
	bounds := image.Rect(0, 0, 640, 480)
	corner := []smallFinder{{100, 100, 2, 3}, {200, 100, 2, 2}, {100, 200, 2, 3}}
	for name, c := range map[string]struct {
		fs   []smallFinder
		want bool
	}{
		"RightAngleTriple":   {corner, true},
		"WithAStrayMatch":    {append([]smallFinder{{400, 50, 2, 3}}, corner...), true},
		"OneRowMatches":      {[]smallFinder{{100, 100, 2, 1}, {200, 100, 2, 1}, {100, 200, 2, 1}}, false},
		"TwoPatterns":        {corner[:2], false},
		"InALine":            {[]smallFinder{{100, 100, 2, 3}, {200, 100, 2, 3}, {300, 100, 2, 3}}, false},
		"TooClose":           {[]smallFinder{{100, 100, 2, 3}, {110, 100, 2, 3}, {100, 110, 2, 3}}, false},
		"UnequalModuleSizes": {[]smallFinder{{100, 100, 1, 3}, {200, 100, 2.5, 3}, {100, 200, 1, 3}}, false},
		"Texture":            {texture(30), false},
	} {
		t.Run(name, func(t *testing.T) {
			area := smallCodeArea(c.fs, bounds)
			if got := !area.Empty(); got != c.want {
				t.Fatalf("area %v, want an area: %v", area, c.want)
			}
			if c.want && !image.Rect(100, 100, 201, 201).In(area) {
				t.Fatalf("area %v does not hold the three patterns", area)
			}
		})
	}
}

func texture(n int) []smallFinder {
	fs := make([]smallFinder, n)
	for i := range fs {
		fs[i] = smallFinder{float64(20 * (i % 10)), float64(40 * (i / 10)), 2, 3}
	}
	return fs
}
