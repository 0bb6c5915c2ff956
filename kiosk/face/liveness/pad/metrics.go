// Package pad evaluates passive presentation-attack detection (PAD) in the terms of
// ISO/IEC 30107-3: APCER, the share of attack presentations accepted as bona fide, per attack
// type, and BPCER, the share of bona fide presentations rejected as attacks. It also holds the
// input preparation of fr_liveness.onnx. It is an offline evaluation aid: nothing in the
// product decides with it.
package pad

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Rate is k events out of n trials with a Wilson score interval at 95%.
type Rate struct {
	K, N   int
	Lo, Hi float64
}

// Value is K/N (NaN when N is 0).
func (r Rate) Value() float64 {
	if r.N == 0 {
		return math.NaN()
	}
	return float64(r.K) / float64(r.N)
}

func (r Rate) String() string {
	if r.N == 0 {
		return "n/a (0 trials)"
	}
	return fmt.Sprintf("%.1f%% (%d/%d; 95%% CI %.1f–%.1f%%)", 100*r.Value(), r.K, r.N, 100*r.Lo, 100*r.Hi)
}

// z95 is the two-sided 95% normal quantile.
const z95 = 1.959963984540054

// Wilson returns k/n with its Wilson score interval at confidence z (1.96 for 95%). It keeps
// within [0, 1] and stays informative at k = 0 or k = n, where the normal interval collapses.
func Wilson(k, n int, z float64) (Rate, error) {
	if n < 0 || k < 0 || k > n {
		return Rate{}, fmt.Errorf("%w: %d of %d", ErrCounts, k, n)
	}
	r := Rate{K: k, N: n}
	if n == 0 {
		r.Lo, r.Hi = 0, 1
		return r, nil
	}
	nf, p := float64(n), float64(k)/float64(n)
	z2 := z * z
	centre := (p + z2/(2*nf)) / (1 + z2/nf)
	half := z / (1 + z2/nf) * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	r.Lo, r.Hi = math.Max(0, centre-half), math.Min(1, centre+half)
	return r, nil
}

// ErrCounts: k and n are not a count of events among trials.
var ErrCounts = errors.New("pad: invalid counts")

// A score is the model's bona fide probability; a presentation is accepted as bona fide when
// its score is at least the threshold.

// APCER is the rate of attack scores accepted at threshold t.
func APCER(attack []float64, t float64) Rate {
	k := 0
	for _, s := range attack {
		if s >= t {
			k++
		}
	}
	r, _ := Wilson(k, len(attack), z95) // counts from a slice are always valid
	return r
}

// BPCER is the rate of bona fide scores rejected at threshold t.
func BPCER(bona []float64, t float64) Rate {
	k := 0
	for _, s := range bona {
		if s < t {
			k++
		}
	}
	r, _ := Wilson(k, len(bona), z95)
	return r
}

// ThresholdForBPCER is the highest threshold (the strictest against attacks) at which at most
// maxBPCER of the bona fide scores are rejected: one of the bona fide scores. It is chosen on
// the same scores it is reported on, so the BPCER it gives is optimistic.
func ThresholdForBPCER(bona []float64, maxBPCER float64) (float64, error) {
	if len(bona) == 0 {
		return 0, errors.New("pad: no bona fide scores")
	}
	if maxBPCER < 0 || maxBPCER >= 1 || math.IsNaN(maxBPCER) {
		return 0, fmt.Errorf("pad: BPCER bound %g outside [0, 1)", maxBPCER)
	}
	s := slices.Clone(bona)
	slices.Sort(s)
	// Rejecting the r lowest scores keeps BPCER at r/n; ties move together, so step down past
	// scores equal to the candidate.
	r := int(math.Floor(maxBPCER * float64(len(s))))
	for r > 0 && s[r] == s[r-1] {
		r--
	}
	return s[r], nil
}
