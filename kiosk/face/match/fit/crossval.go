package fit

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/ikd-field/ikd/kiosk/face/match"
)

// CVOptions set up people-disjoint cross-validation: the people (never single faces) are
// shuffled and split into Folds groups; each group is scored by a calibration fitted on the
// other groups only, and its cohort is drawn from the held-out group itself, so no label of
// a person being evaluated is ever fitted on. Repeats reshuffle people with a new seed.
type CVOptions struct {
	Folds   int
	Repeats int
	Seed    uint64
}

// DefaultCV is the cross-validation the shipped calibration reports.
var DefaultCV = CVOptions{Folds: 5, Repeats: 4, Seed: 1}

// FoldResult is one held-out group's scores.
type FoldResult struct {
	Repeat, Fold int
	People       int
	Scores       PairScores
}

// CVResult pools all folds.
type CVResult struct {
	Folds  []FoldResult
	Pooled PairScores
}

// CrossValidate fits spec on all but one group of people and scores the held-out group's
// pairs, for every group and repeat.
func CrossValidate(ds *Dataset, spec Spec, cv CVOptions) (CVResult, error) {
	return crossValidate(ds, ds, spec, cv)
}

// crossValidate fits on fit's faces and scores the held-out people's faces of score, which
// must list the same faces in the same order (score may be fit with its descriptors moved).
func crossValidate(fit, score *Dataset, spec Spec, cv CVOptions) (CVResult, error) {
	if len(score.Faces) != len(fit.Faces) {
		return CVResult{}, fmt.Errorf("cross-validation: %d faces to score, %d to fit", len(score.Faces), len(fit.Faces))
	}
	if cv.Folds < 2 || cv.Repeats < 1 {
		return CVResult{}, fmt.Errorf("cross-validation: need folds ≥ 2 and repeats ≥ 1, got %d and %d", cv.Folds, cv.Repeats)
	}
	descs, labels := fit.split()
	scored, _ := score.split()
	people := peopleWithFaces(labels)
	if len(people) < cv.Folds+2 {
		return CVResult{}, fmt.Errorf("cross-validation: %d people is too few for %d folds", len(people), cv.Folds)
	}
	type job struct {
		repeat, fold int
		held         map[int]bool
	}
	var jobs []job
	for r := range cv.Repeats {
		order := slices.Clone(people)
		rng := rand.New(rand.NewPCG(cv.Seed, uint64(r)))
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for f := range cv.Folds {
			held := map[int]bool{}
			for i := f; i < len(order); i += cv.Folds {
				held[order[i]] = true
			}
			jobs = append(jobs, job{r, f, held})
		}
	}
	// Folds are independent: run them on all CPUs, and collect them in job order so the
	// result does not depend on scheduling.
	results := make([]FoldResult, len(jobs))
	errs := make([]error, len(jobs))
	parallelEach(len(jobs), func(k int) {
		j := jobs[k]
		var trD, teD []match.Descriptor
		var trL, teL []int
		for i, l := range labels {
			if j.held[l] {
				teD, teL = append(teD, scored[i]), append(teL, l)
			} else {
				trD, trL = append(trD, descs[i]), append(trL, l)
			}
		}
		m, err := fitModel(trD, trL, spec)
		if err != nil {
			errs[k] = fmt.Errorf("cross-validation repeat %d fold %d: %w", j.repeat, j.fold, err)
			return
		}
		results[k] = FoldResult{Repeat: j.repeat, Fold: j.fold, People: len(j.held), Scores: m.pairScores(m.embedAll(teD), teL, spec.Frames)}
	})
	if err := errors.Join(errs...); err != nil {
		return CVResult{}, err
	}
	res := CVResult{Folds: results}
	var pooledG, pooledI []float64
	for _, f := range results {
		pooledG = append(pooledG, f.Scores.Genuine...)
		pooledI = append(pooledI, f.Scores.Impostor...)
	}
	res.Pooled = NewPairScores(pooledG, pooledI)
	return res, nil
}

func peopleWithFaces(labels []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, l := range labels {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	sort.Ints(out)
	return out
}

// pairScores scores pairs within one set of people. With frames ≤ 1 every pair of faces is
// scored once. With frames > 1, each face is a reference and the probe fuses frames other
// faces of one person (genuine: the same person's next faces; impostor: each other person's
// first faces), imitating several live frames. Cohort statistics use the faces of people
// other than the two in the pair.
func (m *model) pairScores(emb [][]float64, labels []int, frames int) PairScores {
	n := len(emb)
	sims := make([][]float64, n)
	for i := range sims {
		sims[i] = make([]float64, n)
		for j := range sims[i] {
			sims[i][j] = dot(emb[i], emb[j])
		}
	}
	byPerson := map[int][]int{}
	for i, l := range labels {
		byPerson[l] = append(byPerson[l], i)
	}
	var g, imp []float64
	if frames <= 1 {
		c := m.newSetCohort(sims, labels, byPerson)
		for i := range n {
			for j := i + 1; j < n; j++ {
				s := m.norm(sims[i][j], c.stats(i, labels[i], labels[j]), c.stats(j, labels[j], labels[i]))
				if labels[i] == labels[j] {
					g = append(g, s)
				} else {
					imp = append(imp, s)
				}
			}
		}
		return NewPairScores(g, imp)
	}
	// Fused probes: the mean of frames embeddings, renormalised, scored against each
	// reference as an extra row of the similarity matrix.
	probe := func(faces []int) []float64 {
		v := make([]float64, len(emb[0]))
		for _, f := range faces {
			for k, x := range emb[f] {
				v[k] += x
			}
		}
		normalise(v)
		return v
	}
	for ref := range n {
		pr := labels[ref]
		for q, faces := range byPerson {
			var pick []int
			if q == pr {
				pos := slices.Index(faces, ref)
				for k := 1; k < len(faces) && len(pick) < frames; k++ {
					pick = append(pick, faces[(pos+k)%len(faces)])
				}
			} else {
				pick = faces[:min(frames, len(faces))]
			}
			if len(pick) < frames {
				continue
			}
			v := probe(pick)
			row := make([]float64, n)
			for j := range n {
				row[j] = dot(v, emb[j])
			}
			s := m.norm(row[ref], m.cohortStatsRow(row, labels, q, pr), m.cohortStatsRow(sims[ref], labels, pr, q))
			if q == pr {
				g = append(g, s)
			} else {
				imp = append(imp, s)
			}
		}
	}
	return NewPairScores(g, imp)
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func normalise(v []float64) {
	n := math.Sqrt(dot(v, v))
	if n > 0 {
		for i := range v {
			v[i] /= n
		}
	}
}

// parallelEach runs f(0..n-1) on one goroutine per CPU and waits for all.
func parallelEach(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}
