package pad

import (
	"errors"
	"math"
	"testing"
)

func TestWilson(t *testing.T) {
	// Reference values: the Wilson score interval at z = 1.96 (Newcombe 1998, table I, and
	// the closed form for k = 0: [0, z²/(n+z²)]).
	tests := []struct {
		name   string
		k, n   int
		lo, hi float64
	}{
		{"Newcombe 81/263", 81, 263, 0.2553, 0.3662},
		{"Newcombe 15/148", 15, 148, 0.0624, 0.1605},
		{"Newcombe 0/20", 0, 20, 0, 0.1611},
		{"Newcombe 1/29", 1, 29, 0.0061, 0.1718},
		{"all of 10", 10, 10, 0.7225, 1},
		{"no trials", 0, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Wilson(tt.k, tt.n, z95)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r.Lo-tt.lo) > 5e-4 || math.Abs(r.Hi-tt.hi) > 5e-4 {
				t.Errorf("Wilson(%d, %d) = [%.4f, %.4f], want [%.4f, %.4f]", tt.k, tt.n, r.Lo, r.Hi, tt.lo, tt.hi)
			}
			if r.K != tt.k || r.N != tt.n {
				t.Errorf("counts %d/%d, want %d/%d", r.K, r.N, tt.k, tt.n)
			}
		})
	}
}

func TestWilsonRejectsImpossibleCounts(t *testing.T) {
	for _, c := range [][2]int{{-1, 5}, {6, 5}, {0, -1}} {
		if _, err := Wilson(c[0], c[1], z95); !errors.Is(err, ErrCounts) {
			t.Errorf("Wilson(%d, %d): err %v, want ErrCounts", c[0], c[1], err)
		}
	}
}

func TestAPCERAndBPCER(t *testing.T) {
	bona := []float64{0.1, 0.4, 0.5, 0.7, 0.9}
	attack := []float64{0.05, 0.2, 0.5, 0.6}
	tests := []struct {
		t            float64
		bpcer, apcer int // rejected bona fide, accepted attacks
	}{
		{0, 0, 4},
		{0.5, 2, 2}, // a score equal to the threshold is accepted
		{0.55, 3, 1},
		{0.95, 5, 0},
	}
	for _, tt := range tests {
		b, a := BPCER(bona, tt.t), APCER(attack, tt.t)
		if b.K != tt.bpcer || b.N != len(bona) {
			t.Errorf("BPCER at %g = %d/%d, want %d/%d", tt.t, b.K, b.N, tt.bpcer, len(bona))
		}
		if a.K != tt.apcer || a.N != len(attack) {
			t.Errorf("APCER at %g = %d/%d, want %d/%d", tt.t, a.K, a.N, tt.apcer, len(attack))
		}
	}
	if r := APCER(nil, 0.5); r.N != 0 || !math.IsNaN(r.Value()) || r.String() != "n/a (0 trials)" {
		t.Errorf("APCER of no attacks = %v, want n/a", r)
	}
}

func TestThresholdForBPCER(t *testing.T) {
	twenty := make([]float64, 20)
	for i := range twenty {
		twenty[i] = float64(i+1) / 20 // 0.05 … 1.00
	}
	tests := []struct {
		name     string
		bona     []float64
		max      float64
		want     float64
		rejected int
	}{
		{"5% of 20 rejects the lowest one", twenty, 0.05, 0.10, 1},
		{"0% accepts all", twenty, 0, 0.05, 0},
		{"10% of 20 rejects two", twenty, 0.10, 0.15, 2},
		{"under one frame rejects none", twenty[:10], 0.05, 0.05, 0},
		{"ties are not split", []float64{0.2, 0.2, 0.2, 0.9}, 0.5, 0.2, 0},
		{"unsorted input", []float64{0.9, 0.1, 0.5, 0.3}, 0.25, 0.3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ThresholdForBPCER(tt.bona, tt.max)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("threshold %g, want %g", got, tt.want)
			}
			b := BPCER(tt.bona, got)
			if b.K != tt.rejected || b.Value() > tt.max {
				t.Errorf("BPCER at the threshold %v, want %d rejected and at most %g", b, tt.rejected, tt.max)
			}
		})
	}
}

func TestThresholdForBPCERBadInput(t *testing.T) {
	for name, c := range map[string]struct {
		bona []float64
		max  float64
	}{
		"no scores":   {nil, 0.05},
		"negative":    {[]float64{0.5}, -0.1},
		"one or more": {[]float64{0.5}, 1},
		"NaN":         {[]float64{0.5}, math.NaN()},
	} {
		if _, err := ThresholdForBPCER(c.bona, c.max); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
