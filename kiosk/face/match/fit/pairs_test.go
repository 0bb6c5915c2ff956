package fit

import (
	"math"
	"testing"
)

func TestPairScoresRates(t *testing.T) {
	// 10 impostors at 0.1..1.0 and 4 genuine pairs.
	var imp []float64
	for i := 1; i <= 10; i++ {
		imp = append(imp, float64(i)/10)
	}
	p := NewPairScores([]float64{0.35, 0.05, 0.15, 0.25}, imp)
	t.Run("StrictlyBelowMatches", func(t *testing.T) {
		if got := p.FMR(0.3); math.Abs(got-0.2) > 1e-12 { // 0.1 and 0.2 accepted; 0.3 is not below 0.3
			t.Fatalf("FMR(0.3) = %v, want 0.2", got)
		}
		if got := p.FNMR(0.25); got != 0.5 { // 0.25 and 0.35 rejected
			t.Fatalf("FNMR(0.25) = %v, want 0.5", got)
		}
	})
	t.Run("ThresholdForFMR", func(t *testing.T) {
		for _, c := range []struct{ target, want float64 }{{0, 0.1}, {0.1, 0.2}, {0.25, 0.3}, {0.99, 1.0}, {1, math.Inf(1)}} {
			got := p.ThresholdForFMR(c.target)
			if got != c.want {
				t.Errorf("ThresholdForFMR(%v) = %v, want %v", c.target, got, c.want)
			}
			if p.FMR(got) > c.target {
				t.Errorf("FMR at ThresholdForFMR(%v) = %v exceeds the target", c.target, p.FMR(got))
			}
		}
	})
	t.Run("ThresholdForGenuineAbove", func(t *testing.T) {
		for _, c := range []struct{ target, want float64 }{{0, 0.35}, {0.25, 0.25}, {0.5, 0.15}} {
			got := p.ThresholdForGenuineAbove(c.target)
			if got != c.want {
				t.Errorf("ThresholdForGenuineAbove(%v) = %v, want %v", c.target, got, c.want)
			}
			if p.GenuineAbove(got) > c.target {
				t.Errorf("GenuineAbove at its threshold = %v exceeds %v", p.GenuineAbove(got), c.target)
			}
		}
	})
	t.Run("ImpostorAbove", func(t *testing.T) {
		if got := p.ImpostorAbove(0.8); math.Abs(got-0.2) > 1e-12 {
			t.Fatalf("ImpostorAbove(0.8) = %v, want 0.2", got)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		var e PairScores
		if !math.IsNaN(e.FMR(0.5)) || !math.IsNaN(e.ThresholdForFMR(1e-3)) || !math.IsNaN(e.ThresholdForGenuineAbove(0.01)) {
			t.Fatal("empty pair scores must give NaN, not a rate")
		}
	})
}
