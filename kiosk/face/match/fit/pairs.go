package fit

import (
	"math"
	"slices"

	"github.com/ikd-field/ikd/kiosk/face/match"
)

// PairScores are the scores of genuine pairs (same person) and impostor pairs (different
// people) on a distance-like scale: a pair is accepted as the same person when its score is
// below the threshold. Both slices are sorted ascending.
type PairScores struct {
	Genuine  []float64
	Impostor []float64
}

// NewPairScores sorts copies of the genuine and impostor scores.
func NewPairScores(genuine, impostor []float64) PairScores {
	g, i := slices.Clone(genuine), slices.Clone(impostor)
	slices.Sort(g)
	slices.Sort(i)
	return PairScores{Genuine: g, Impostor: i}
}

// Append adds other's scores (for pooling cross-validation folds).
func (p PairScores) Append(other PairScores) PairScores {
	return NewPairScores(append(slices.Clone(p.Genuine), other.Genuine...), append(slices.Clone(p.Impostor), other.Impostor...))
}

// FMR is the false-match rate at threshold t: the share of impostor pairs scoring below t.
func (p PairScores) FMR(t float64) float64 {
	return rate(countBelow(p.Impostor, t), len(p.Impostor))
}

// FNMR is the false-non-match rate at threshold t: the share of genuine pairs scoring t or
// more.
func (p PairScores) FNMR(t float64) float64 {
	return rate(len(p.Genuine)-countBelow(p.Genuine, t), len(p.Genuine))
}

// GenuineAbove is the share of genuine pairs scoring above t: the genuine pairs a no-match
// threshold of t would reject outright.
func (p PairScores) GenuineAbove(t float64) float64 {
	n, _ := slices.BinarySearch(p.Genuine, math.Nextafter(t, math.Inf(1)))
	return rate(len(p.Genuine)-n, len(p.Genuine))
}

// ThresholdForFMR returns the largest threshold whose FMR is at most target: the score of
// the impostor pair just beyond the allowed count. It is +Inf when target allows every
// impostor pair, and NaN when there are none.
func (p PairScores) ThresholdForFMR(target float64) float64 {
	n := len(p.Impostor)
	if n == 0 {
		return math.NaN()
	}
	k := int(math.Floor(target * float64(n)))
	if k >= n {
		return math.Inf(1)
	}
	return p.Impostor[k]
}

// ThresholdForGenuineAbove returns the smallest no-match threshold t such that at most the
// share target of genuine pairs scores above t. NaN when there are no genuine pairs.
func (p PairScores) ThresholdForGenuineAbove(target float64) float64 {
	n := len(p.Genuine)
	if n == 0 {
		return math.NaN()
	}
	k := int(math.Floor(target * float64(n)))
	if k >= n {
		return math.Inf(-1)
	}
	return p.Genuine[n-1-k]
}

func countBelow(sorted []float64, t float64) int {
	n, _ := slices.BinarySearch(sorted, t) // first index with sorted[i] >= t
	return n
}

func rate(k, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(k) / float64(n)
}

// RawPairScores scores every pair of faces in ds by raw Euclidean distance.
func RawPairScores(ds *Dataset) PairScores {
	var g, imp []float64
	for i := range ds.Faces {
		for j := i + 1; j < len(ds.Faces); j++ {
			d := match.Distance(ds.Faces[i].Descriptor, ds.Faces[j].Descriptor)
			if ds.Faces[i].Person == ds.Faces[j].Person {
				g = append(g, d)
			} else {
				imp = append(imp, d)
			}
		}
	}
	return NewPairScores(g, imp)
}

// ImpostorAbove is the share of impostor pairs scoring above t: those a no-match threshold
// of t rejects outright.
func (p PairScores) ImpostorAbove(t float64) float64 {
	n, _ := slices.BinarySearch(p.Impostor, math.Nextafter(t, math.Inf(1)))
	return rate(len(p.Impostor)-n, len(p.Impostor))
}

// CalibratedPairScores scores every pair of faces in ds with c (one descriptor per side).
func CalibratedPairScores(c *match.Calibration, ds *Dataset) PairScores {
	emb := make([]match.Embedding, len(ds.Faces))
	for i, f := range ds.Faces {
		emb[i] = c.Embed(f.Descriptor)
	}
	var g, imp []float64
	for i := range emb {
		for j := i + 1; j < len(emb); j++ {
			var cos float64
			for k, v := range emb[i] {
				cos += float64(v) * float64(emb[j][k])
			}
			s := float64(c.FromCosine(cos))
			if ds.Faces[i].Person == ds.Faces[j].Person {
				g = append(g, s)
			} else {
				imp = append(imp, s)
			}
		}
	}
	return NewPairScores(g, imp)
}
