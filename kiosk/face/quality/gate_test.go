package quality

import (
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// texture returns a w×h grey frame: a broad shading (like the light falling across a face)
// plus fine detail (like skin, hair and eye edges) of the given amplitude around mean; each
// blur pass removes more of the fine detail, as a defocused lens does.
func texture(w, h int, mean, amp float64, blur int) *image.Gray {
	r := rand.New(rand.NewPCG(1, 2))
	m := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			broad := math.Sin(float64(x)/40) * math.Cos(float64(y)/50)
			fine := math.Sin(float64(x)*0.8) * math.Sin(float64(y)*0.7)
			v := mean + amp*(0.6*broad+0.4*fine) + (r.Float64()*2-1)*amp*0.1
			m.Pix[y*m.Stride+x] = uint8(max(0, min(255, v)))
		}
	}
	for range blur {
		m = boxBlur(m)
	}
	return m
}

func boxBlur(m *image.Gray) *image.Gray {
	b := m.Bounds()
	out := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			s, n := 0, 0
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					if p := (image.Point{x + dx, y + dy}); p.In(b) {
						s += int(m.GrayAt(p.X, p.Y).Y)
						n++
					}
				}
			}
			out.Pix[out.PixOffset(x, y)] = uint8(s / n)
		}
	}
	return out
}

func TestGateGeometry(t *testing.T) {
	frame := texture(1280, 720, 128, 60, 0)
	centre := Point{640, 330}
	for _, tc := range []struct {
		name           string
		at             Point
		iod, roll, yaw float64
		want           []Hint
	}{
		{"GoodFace", centre, 110, 3, 5, nil},
		{"FarAway", centre, 35, 0, 0, []Hint{HintTooSmall}},
		{"TooClose", centre, 340, 0, 0, []Hint{HintTooLarge, HintOffCentre}},
		{"AtTheEdge", Point{60, 330}, 110, 0, 0, []Hint{HintOffCentre}},
		{"HeadTilted", centre, 110, 25, 0, []Hint{HintRoll}},
		{"LookingAway", centre, 110, 0, -35, []Hint{HintYaw}},
		{"TiltedAndTurned", centre, 110, -20, 30, []Hint{HintRoll, HintYaw}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Defaults().Check(frame, SyntheticLandmarks(tc.at, tc.iod, tc.roll, tc.yaw))
			if err != nil {
				t.Fatal(err)
			}
			// The synthetic texture says nothing about light and focus at every scale; this test
			// is about geometry.
			geometric := slices.DeleteFunc(slices.Clone(rep.Failures), func(h Hint) bool {
				return h == HintBlurry || h == HintLowContrast || h == HintTooDark || h == HintTooBright
			})
			if !sameHints(geometric, tc.want) {
				t.Fatalf("failures %v, want %v", rep.Failures, tc.want)
			}
			if h, ok := rep.Hint(); ok != (len(tc.want) > 0) || (ok && h != tc.want[0]) {
				t.Fatalf("hint %v %v", h, ok)
			}
		})
	}
}

func TestGatePixels(t *testing.T) {
	l := SyntheticLandmarks(Point{320, 220}, 100, 0, 0)
	for _, tc := range []struct {
		name  string
		frame image.Image
		want  []Hint
	}{
		{"WellLitTextured", texture(640, 480, 130, 70, 1), nil},
		{"Dark", texture(640, 480, 30, 25, 0), []Hint{HintTooDark}},
		{"Overexposed", texture(640, 480, 235, 25, 0), []Hint{HintTooBright}},
		{"FlatLight", texture(640, 480, 128, 12, 0), []Hint{HintLowContrast}},
		{"OutOfFocus", texture(640, 480, 128, 70, 6), []Hint{HintBlurry}},
		{"BlankWall", texture(640, 480, 128, 0, 0), []Hint{HintLowContrast, HintBlurry}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Defaults().Check(tc.frame, l)
			if err != nil {
				t.Fatal(err)
			}
			if !sameHints(rep.Failures, tc.want) {
				t.Fatalf("failures %v, want %v (pixels %+v)", rep.Failures, tc.want, rep.Pixels)
			}
		})
	}
}

func TestGateRejectsDegenerateLandmarks(t *testing.T) {
	var l Landmarks
	if _, err := Defaults().Check(texture(64, 64, 100, 10, 0), l); !errors.Is(err, ErrDegenerate) {
		t.Fatalf("err %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := Defaults().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Config){
		"IODBoundsCrossed": func(c *Config) { c.MaxIOD = c.MinIOD },
		"ZeroRoll":         func(c *Config) { c.MaxRoll = 0 },
		"MeanAbove255":     func(c *Config) { c.MaxMean = 300 },
		"NegativeSharp":    func(c *Config) { c.MinSharpness = -1 },
	} {
		t.Run(name, func(t *testing.T) {
			c := Defaults()
			mut(&c)
			if c.Validate() == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestHintIsAnError(t *testing.T) {
	var err error = HintTooDark
	if !errors.Is(err, Hint{Code: "face.too_dark"}) || errors.Is(err, HintTooBright) {
		t.Fatal("errors.Is does not match by code")
	}
	if HintTooDark.String() != "Terlalu gelap: cari tempat yang lebih terang / Too dark: move to better light" {
		t.Fatal(HintTooDark.String())
	}
}

func sameHints(a, b []Hint) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
