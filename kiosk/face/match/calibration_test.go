package match

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
)

func mustDefault(t testing.TB) *Calibration {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func randomDescriptor(rng *rand.Rand) Descriptor {
	var d Descriptor
	for i := range d {
		d[i] = float32(0.12 * rng.NormFloat64())
	}
	return d
}

func TestDefaultCalibration(t *testing.T) {
	c := mustDefault(t)
	if c.Dims() != Dim {
		t.Errorf("embedding dims %d, want %d", c.Dims(), Dim)
	}
	if c.Provenance.SourceSHA256 != "1e1f91106742b974f0b4e2dbc395f9ca3e4bcde0dedf14dc5c8bfd134c2d829d" {
		t.Errorf("provenance source hash %q is not idols-dev.json's", c.Provenance.SourceSHA256)
	}
	if c.Thresholds.Match >= c.Thresholds.NoMatch {
		t.Errorf("thresholds %+v leave no uncertain band", c.Thresholds)
	}
	if cv := c.Provenance.CV; cv.MatchFMR > 1e-3 || cv.FusedFMR > 1e-3 || cv.NoMatchGenuineRejected > 0.01 {
		t.Errorf("shipped thresholds miss their cross-validated targets: %+v", cv)
	}
}

func TestScore(t *testing.T) {
	c := mustDefault(t)
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := randomDescriptor(rng), randomDescriptor(rng)
	t.Run("SameDescriptorScoresLowest", func(t *testing.T) {
		same, err := c.Score([]Descriptor{a}, []Descriptor{a})
		if err != nil {
			t.Fatal(err)
		}
		other, _ := c.Score([]Descriptor{a}, []Descriptor{b})
		if !(same < other) || !(float64(same) < c.Thresholds.Match) {
			t.Fatalf("same %v, other %v", same, other)
		}
	})
	t.Run("Symmetric", func(t *testing.T) {
		ab, _ := c.Score([]Descriptor{a}, []Descriptor{b})
		ba, _ := c.Score([]Descriptor{b}, []Descriptor{a})
		if math.Abs(float64(ab-ba)) > 1e-9 {
			t.Fatalf("score(a,b) %v != score(b,a) %v", ab, ba)
		}
	})
	t.Run("ScaleInvariant", func(t *testing.T) {
		big := a
		for i := range big {
			big[i] *= 3
		}
		s1, _ := c.Score([]Descriptor{a}, []Descriptor{b})
		s2, _ := c.Score([]Descriptor{big}, []Descriptor{b})
		if math.Abs(float64(s1-s2)) > 1e-6 {
			t.Fatalf("scaling a descriptor changed its score: %v vs %v", s1, s2)
		}
	})
	t.Run("FusionOfRepeatedFrameIsThatFrame", func(t *testing.T) {
		one, _ := c.Score([]Descriptor{a}, []Descriptor{b})
		three, _ := c.Score([]Descriptor{a, a, a}, []Descriptor{b, b})
		if math.Abs(float64(one-three)) > 1e-6 {
			t.Fatalf("fusing copies changed the score: %v vs %v", one, three)
		}
	})
	t.Run("NoLiveFrames", func(t *testing.T) {
		if _, err := c.Score(nil, []Descriptor{a}); !errors.Is(err, ErrNoDescriptors) || !strings.Contains(err.Error(), "live") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("NoReference", func(t *testing.T) {
		if _, err := c.Score([]Descriptor{a}, nil); !errors.Is(err, ErrNoDescriptors) || !strings.Contains(err.Error(), "reference") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("NaNFrame", func(t *testing.T) {
		bad := a
		bad[9] = float32(math.NaN())
		if _, err := c.Score([]Descriptor{a, bad}, []Descriptor{b}); !errors.Is(err, kiosk.ErrDescriptorNotFinite) {
			t.Fatalf("error %v", err)
		}
	})
}

func TestParseCalibration(t *testing.T) {
	good, err := mustDefault(t).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("RoundTrip", func(t *testing.T) {
		c, err := ParseCalibration(good)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := c.MarshalJSON()
		if string(again) != string(good) {
			t.Fatal("marshal(parse(x)) != x")
		}
	})
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"NotJSON", []byte("{"), "unexpected end"},
		{"WrongFormat", edit(func(m map[string]any) { m["format"] = "other/9" }), "format"},
		{"ShortMean", edit(func(m map[string]any) { m["mean"] = m["mean"].([]any)[:5] }), "mean has 5"},
		{"ShortRow", edit(func(m map[string]any) {
			rows := m["projection"].([]any)
			rows[3] = rows[3].([]any)[:7]
		}), "row 3"},
		{"ZeroScale", edit(func(m map[string]any) { m["score_scale"] = 0 }), "scale"},
		{"CrossedThresholds", edit(func(m map[string]any) { m["thresholds"] = map[string]any{"match": 0.6, "no_match": 0.2} }), "thresholds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCalibration(tt.in)
			if !errors.Is(err, ErrBadCalibration) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want ErrBadCalibration mentioning %q", err, tt.want)
			}
		})
	}
}
