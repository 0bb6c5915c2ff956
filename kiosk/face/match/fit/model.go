package fit

import (
	"fmt"
	"math"
	"slices"

	"github.com/ikd-field/ikd/kiosk/face/match"
)

// Spec is a complete calibration recipe: how to learn the projection, how to normalise
// scores against a cohort, and (for evaluation only) how many live frames are fused.
type Spec struct {
	Fit    FitOptions
	Cohort CohortNorm
	Frames int
}

// CohortNorm selects score normalisation against a cohort of other people.
type CohortNorm struct {
	// SNorm applies symmetric normalisation: the mean of the score's z-values against the
	// probe's and the reference's cohort score distributions.
	SNorm bool
	// TopK, if > 0, uses only the K cohort scores closest to each side (adaptive S-norm).
	TopK int
}

// model is a fitted recipe: projection, cohort rule and the affine map that puts scores on
// the raw-distance scale.
type model struct {
	proj          *projection
	cohort        CohortNorm
	scale, offset float64
}

// fitModel fits spec on labelled descriptors. The affine map sends the fitted scores of
// impostor pairs to the mean and spread of their raw Euclidean distances, so that calibrated
// thresholds read like raw ones (impostors around 0.5, likely matches below 0.3).
func fitModel(descs []match.Descriptor, labels []int, spec Spec) (*model, error) {
	p, err := fitProjection(descs, labels, spec.Fit)
	if err != nil {
		return nil, err
	}
	m := &model{proj: p, cohort: spec.Cohort, scale: 1}
	fitted := m.pairScores(m.embedAll(descs), labels, 1)
	var raw []float64
	for i := range descs {
		for j := i + 1; j < len(descs); j++ {
			if labels[i] != labels[j] {
				raw = append(raw, match.Distance(descs[i], descs[j]))
			}
		}
	}
	fm, fs := meanStd(fitted.Impostor)
	rm, rs := meanStd(raw)
	if fs == 0 || math.IsNaN(fs) {
		return nil, fmt.Errorf("fit: impostor scores have no spread")
	}
	m.scale = rs / fs
	m.offset = rm - m.scale*fm
	return m, nil
}

func meanStd(v []float64) (float64, float64) {
	var s, ss float64
	for _, x := range v {
		s += x
	}
	mean := s / float64(len(v))
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(v)))
}

func (m *model) embedAll(descs []match.Descriptor) [][]float64 {
	out := make([][]float64, len(descs))
	for i, d := range descs {
		out[i] = m.proj.apply(d, nil)
	}
	return out
}

// norm turns a cosine similarity into a calibrated distance-like score, given the cohort
// statistics (mean, standard deviation) of the probe and of the reference.
func (m *model) norm(sim float64, probe, ref cohortStats) float64 {
	raw := -sim
	if m.cohort.SNorm {
		raw = -0.5 * ((sim-probe.mean)/probe.sd + (sim-ref.mean)/ref.sd)
	}
	return m.offset + m.scale*raw
}

type cohortStats struct{ mean, sd float64 }

// setCohort holds, for each face of an evaluation set, its similarities to the other faces
// sorted best first, so cohort statistics excluding two people are cheap.
type setCohort struct {
	m      *model
	sims   [][]float64
	labels []int
	order  [][]int // per face: other faces by decreasing similarity
	// per face: similarity sums over all faces and over each person's faces, for
	// full-cohort (TopK = 0) statistics; person labels index the inner slices
	total, totalSq []float64
	sum, sumSq     [][]float64
	count          []int
}

func (m *model) newSetCohort(sims [][]float64, labels []int, byPerson map[int][]int) *setCohort {
	c := &setCohort{m: m, sims: sims, labels: labels}
	if !m.cohort.SNorm {
		return c
	}
	people := slices.Max(labels) + 1
	c.count = make([]int, people)
	for p, f := range byPerson {
		c.count[p] = len(f)
	}
	n := len(labels)
	if m.cohort.TopK > 0 {
		c.order = make([][]int, n)
		for i := range n {
			idx := make([]int, n)
			for j := range idx {
				idx[j] = j
			}
			slices.SortFunc(idx, func(a, b int) int { return -cmpFloat(sims[i][a], sims[i][b]) })
			c.order[i] = idx
		}
		return c
	}
	c.total, c.totalSq = make([]float64, n), make([]float64, n)
	c.sum, c.sumSq = make([][]float64, n), make([][]float64, n)
	for i := range n {
		c.sum[i], c.sumSq[i] = make([]float64, people), make([]float64, people)
		for j := range n {
			v := sims[i][j]
			c.sum[i][labels[j]] += v
			c.sumSq[i][labels[j]] += v * v
			c.total[i] += v
			c.totalSq[i] += v * v
		}
	}
	return c
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// stats returns face i's cohort statistics over the faces of everyone but people a and b.
func (c *setCohort) stats(i, a, b int) cohortStats {
	if !c.m.cohort.SNorm {
		return cohortStats{}
	}
	if c.m.cohort.TopK > 0 {
		vals := make([]float64, 0, c.m.cohort.TopK)
		for _, j := range c.order[i] {
			if l := c.labels[j]; l != a && l != b {
				vals = append(vals, c.sims[i][j])
				if len(vals) == c.m.cohort.TopK {
					break
				}
			}
		}
		return statsOf(vals)
	}
	n := float64(len(c.labels) - c.count[a])
	s := c.total[i] - c.sum[i][a]
	ss := c.totalSq[i] - c.sumSq[i][a]
	if b != a {
		n -= float64(c.count[b])
		s -= c.sum[i][b]
		ss -= c.sumSq[i][b]
	}
	mean := s / n
	return cohortStats{mean: mean, sd: math.Sqrt(math.Max(ss/n-mean*mean, 1e-12))}
}

func statsOf(vals []float64) cohortStats {
	mean, sd := meanStd(vals)
	return cohortStats{mean: mean, sd: math.Max(sd, 1e-6)}
}

// cohortStatsRow: statistics of one similarity row over faces of people other than a and b.
func (m *model) cohortStatsRow(row []float64, labels []int, a, b int) cohortStats {
	if !m.cohort.SNorm {
		return cohortStats{}
	}
	var vals []float64
	for j, v := range row {
		if labels[j] != a && labels[j] != b {
			vals = append(vals, v)
		}
	}
	if m.cohort.TopK > 0 && len(vals) > m.cohort.TopK {
		slices.Sort(vals)
		vals = vals[len(vals)-m.cohort.TopK:]
	}
	return statsOf(vals)
}
