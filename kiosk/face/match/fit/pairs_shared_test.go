package fit

import (
	"math"
	"testing"
)

// TestRawBaselineMatchesSharedREADME reproduces the raw Euclidean table of
// ../shared/testdata/README.md.
func TestRawBaselineMatchesSharedREADME(t *testing.T) {
	ds := sharedDataset(t)
	p := RawPairScores(ds)
	if len(p.Genuine) != 3682 || len(p.Impostor) != 350379 {
		t.Fatalf("pairs: %d genuine, %d impostor; want 3682 and 350379", len(p.Genuine), len(p.Impostor))
	}
	for _, c := range []struct{ t, fmr, fnmr float64 }{
		{0.30, 0.00025, 0.935}, {0.35, 0.0059, 0.749}, {0.40, 0.056, 0.441},
		{0.45, 0.234, 0.211}, {0.50, 0.528, 0.088}, {0.55, 0.786, 0.041}, {0.60, 0.921, 0.016},
	} {
		if got := p.FMR(c.t); math.Abs(got-c.fmr) > c.fmr*0.05 {
			t.Errorf("FMR(%.2f) = %.5f, README says %.5f", c.t, got, c.fmr)
		}
		if got := p.FNMR(c.t); math.Abs(got-c.fnmr) > 0.0006 {
			t.Errorf("FNMR(%.2f) = %.4f, README says %.4f", c.t, got, c.fnmr)
		}
	}
	for _, c := range []struct{ fmr, t, fnmr float64 }{{1e-2, 0.360, 0.685}, {1e-3, 0.320, 0.879}} {
		th := p.ThresholdForFMR(c.fmr)
		if math.Abs(th-c.t) > 0.0005 {
			t.Errorf("threshold for FMR %g = %.4f, README says %.3f", c.fmr, th, c.t)
		}
		if got := p.FMR(th); got > c.fmr {
			t.Errorf("FMR at its own threshold %.4f = %g > %g", th, got, c.fmr)
		}
		if got := p.FNMR(th); math.Abs(got-c.fnmr) > 0.0006 {
			t.Errorf("FNMR at FMR %g = %.4f, README says %.3f", c.fmr, got, c.fnmr)
		}
	}
}
