// Package qrbench measures QR decoders on synthetic webcam frames of a phone screen: the
// condition table shared by the robustness test and `ikdctl bench qr`, frame generation,
// and the comparison with plain gozxing and the zbar and zxing-cpp command-line tools.
package qrbench

import (
	"fmt"
	"image"
	"math/rand/v2"

	"github.com/ikd-field/ikd/camera"
)

// Condition is one way the phone can look to the webcam.
type Condition struct {
	Name  string
	Scene camera.SceneOptions // Text, Seed and frame size are filled in per frame
}

// webcam is the baseline every condition starts from: a slightly soft lens and mild noise.
var webcam = camera.SceneOptions{ModulePx: 4, Blur: 0.6, Noise: 3}

func cond(name string, change func(*camera.SceneOptions)) Condition {
	s := webcam
	change(&s)
	return Condition{Name: name, Scene: s}
}

// Conditions returns the robustness table: module size, rotation, perspective, blur, noise,
// contrast, glare, screen moiré, dark mode and combinations, each varied from the baseline.
func Conditions() []Condition {
	return []Condition{
		cond("baseline-4px", func(s *camera.SceneOptions) {}),
		cond("module-2px", func(s *camera.SceneOptions) { s.ModulePx = 2 }),
		cond("module-2.5px", func(s *camera.SceneOptions) { s.ModulePx = 2.5 }),
		cond("module-3px", func(s *camera.SceneOptions) { s.ModulePx = 3 }),
		cond("module-6px", func(s *camera.SceneOptions) { s.ModulePx = 6 }),
		cond("module-8px", func(s *camera.SceneOptions) { s.ModulePx = 8 }),
		cond("rotate-15", func(s *camera.SceneOptions) { s.RotationDeg = 15 }),
		cond("rotate-30", func(s *camera.SceneOptions) { s.RotationDeg = 30 }),
		cond("rotate-45", func(s *camera.SceneOptions) { s.RotationDeg = 45 }),
		cond("perspective-15", func(s *camera.SceneOptions) { s.PerspectiveDeg = 15 }),
		cond("perspective-30", func(s *camera.SceneOptions) { s.PerspectiveDeg = 30 }),
		cond("perspective-30-rotate-20", func(s *camera.SceneOptions) { s.PerspectiveDeg, s.RotationDeg = 30, 20 }),
		cond("blur-1.2", func(s *camera.SceneOptions) { s.Blur = 1.2 }),
		cond("blur-1.8", func(s *camera.SceneOptions) { s.Blur = 1.8 }),
		cond("noise-10", func(s *camera.SceneOptions) { s.Noise = 10 }),
		cond("noise-20", func(s *camera.SceneOptions) { s.Noise = 20 }),
		cond("contrast-30pct", func(s *camera.SceneOptions) { s.Contrast = 0.3 }),
		cond("contrast-15pct", func(s *camera.SceneOptions) { s.Contrast, s.Noise = 0.15, 2 }),
		cond("glare-0.5", func(s *camera.SceneOptions) { s.Glare = 0.5 }),
		cond("glare-0.8", func(s *camera.SceneOptions) { s.Glare = 0.8 }),
		cond("moire-0.5", func(s *camera.SceneOptions) { s.Moire = 0.5 }),
		cond("moire-0.8-3px", func(s *camera.SceneOptions) { s.Moire, s.ModulePx = 0.8, 3 }),
		cond("dark-mode", func(s *camera.SceneOptions) { s.Inverted = true }),
		cond("small-blurry-noisy-3px", func(s *camera.SceneOptions) { s.ModulePx, s.Blur, s.Noise = 3, 1, 10 }),
		cond("small-blurry-noisy-4px", func(s *camera.SceneOptions) { s.ModulePx, s.Blur, s.Noise = 4, 1.2, 10 }),
		cond("everything-mild", func(s *camera.SceneOptions) {
			s.RotationDeg, s.PerspectiveDeg, s.Blur, s.Noise = 20, 20, 0.9, 6
			s.Contrast, s.Glare, s.Moire = 0.6, 0.3, 0.3
		}),
	}
}

// NoCode is the scene with nothing to read: the phone shows app text, the counter is busy.
var NoCode = Condition{Name: "no-code", Scene: webcam}

// Sizes are the frame sizes measured: a 720p webcam and a VGA one.
var Sizes = []image.Point{{1280, 720}, {640, 480}}

// base45 is the alphabet of the token's text form (also the QR alphanumeric set).
const base45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// TokenText returns a stand-in for an activation token: the IKD1: prefix and 230 base45
// characters, about the size of a signed token (a version 9 code at level M).
func TokenText(seed int64) string {
	rng := rand.New(rand.NewPCG(uint64(seed), 45))
	b := []byte("IKD1:")
	for range 230 {
		b = append(b, base45[rng.IntN(len(base45))])
	}
	return string(b)
}

// Frame is one synthetic picture and the text it shows ("" for no code).
type Frame struct {
	Condition string
	Size      image.Point
	Want      string
	Image     image.Image
}

// Frames renders n frames of c at size; frame i uses seed i+1 (layout, background, noise, text).
func Frames(c Condition, size image.Point, n int) ([]Frame, error) {
	frames := make([]Frame, 0, n)
	for i := range n {
		s := c.Scene
		s.Width, s.Height, s.Seed = size.X, size.Y, int64(i+1)
		if c.Name != NoCode.Name {
			s.Text = TokenText(int64(i + 1))
		}
		img, err := camera.Render(s)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", c.Name, err)
		}
		frames = append(frames, Frame{Condition: c.Name, Size: size, Want: s.Text, Image: img})
	}
	return frames, nil
}
