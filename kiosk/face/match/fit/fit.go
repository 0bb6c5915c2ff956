package fit

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/ikd-field/ikd/kiosk/face/match"
)

// FitOptions choose how a projection is learned from labelled descriptors.
type FitOptions struct {
	// PCADim keeps this many principal components of the (centred, L2-normalised)
	// descriptors before the within-class step; 0 keeps all Dim.
	PCADim int
	// Whiten whitens the within-class covariance (WCCN). Without it the projection is only
	// centring (and PCA if PCADim is set).
	Whiten bool
	// Shrink blends the within-class covariance with a scaled identity,
	// (1−Shrink)·Sw + Shrink·tr(Sw)/n·I, so that directions seen in few people are not
	// amplified without bound. 0 ≤ Shrink < 1.
	Shrink float64
	// OutDim keeps this many discriminant directions (largest between-class variance after
	// whitening: LDA); 0 keeps them all (plain WCCN, rotated).
	OutDim int
}

// ErrTooFewPeople: fitting needs at least two people with two faces each.
var ErrTooFewPeople = errors.New("need at least two people with two or more faces each")

// projection maps a raw descriptor x to an embedding W·(x/|x| − Mean). Rows of W are ordered
// by decreasing discriminative power, so partial distances over the first rows grow fastest
// (what the 1:N search's early abandon relies on).
type projection struct {
	Mean    []float64  // match.Dim
	W       *mat.Dense // out × match.Dim
	Between []float64  // between-class variance per output row (nil without whitening)
}

// fitProjection learns a projection from descriptors and their person labels.
func fitProjection(descs []match.Descriptor, labels []int, opt FitOptions) (*projection, error) {
	if opt.Shrink < 0 || opt.Shrink >= 1 {
		return nil, fmt.Errorf("fit: shrink %v outside [0, 1)", opt.Shrink)
	}
	if opt.PCADim < 0 || opt.PCADim > match.Dim || opt.OutDim < 0 || opt.OutDim > match.Dim {
		return nil, fmt.Errorf("fit: dimensions pca=%d out=%d outside [0, %d]", opt.PCADim, opt.OutDim, match.Dim)
	}
	classes := map[int][]int{}
	for i, l := range labels {
		classes[l] = append(classes[l], i)
	}
	usable := 0
	for _, idx := range classes {
		if len(idx) >= 2 {
			usable++
		}
	}
	if usable < 2 {
		return nil, ErrTooFewPeople
	}
	n := len(descs)
	x := mat.NewDense(n, match.Dim, nil)
	for i, d := range descs {
		row := x.RawRowView(i)
		norm := 0.0
		for j, v := range d {
			row[j] = float64(v)
			norm += row[j] * row[j]
		}
		norm = math.Sqrt(norm)
		if norm == 0 {
			return nil, fmt.Errorf("fit: face %d has a zero descriptor", i)
		}
		for j := range row {
			row[j] /= norm
		}
	}
	mean := make([]float64, match.Dim)
	for i := range n {
		for j, v := range x.RawRowView(i) {
			mean[j] += v / float64(n)
		}
	}
	for i := range n {
		row := x.RawRowView(i)
		for j := range row {
			row[j] -= mean[j]
		}
	}

	w := identity(match.Dim) // current map, rows = output dims
	if opt.PCADim > 0 && opt.PCADim < match.Dim {
		var cov mat.SymDense
		cov.SymOuterK(1/float64(n), x.T())
		_, vecs, err := eigenDescending(&cov)
		if err != nil {
			return nil, fmt.Errorf("fit: pca: %w", err)
		}
		w = mat.DenseCopyOf(vecs.Slice(0, match.Dim, 0, opt.PCADim).T())
	}
	if !opt.Whiten {
		return &projection{Mean: mean, W: w}, nil
	}

	var y mat.Dense
	y.Mul(x, w.T())
	disc, bvals, err := discriminant(&y, labels, opt.Shrink)
	if err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	k := len(bvals)
	out := k
	if opt.OutDim > 0 && opt.OutDim < k {
		out = opt.OutDim
	}
	var final mat.Dense
	final.Mul(disc.Slice(0, out, 0, k), w)
	return &projection{Mean: mean, W: &final, Between: bvals[:out]}, nil
}

// discriminant returns the map that whitens the within-class covariance of the rows of y
// and then rotates onto the eigenvectors of the between-class covariance, rows ordered by
// decreasing between-class variance, and those variances (within-class variance is 1 in
// every output direction).
func discriminant(y *mat.Dense, labels []int, shrink float64) (*mat.Dense, []float64, error) {
	classes := map[int][]int{}
	for i, l := range labels {
		classes[l] = append(classes[l], i)
	}
	_, k := y.Dims()
	sw := mat.NewSymDense(k, nil)
	sb := mat.NewSymDense(k, nil)
	centred := mat.NewVecDense(k, nil)
	classMean := mat.NewVecDense(k, nil)
	keys := make([]int, 0, len(classes))
	for l := range classes {
		keys = append(keys, l)
	}
	sort.Ints(keys) // a fixed order keeps the fit bit-for-bit reproducible
	people := 0
	for _, l := range keys {
		idx := classes[l]
		if len(idx) < 2 {
			continue
		}
		people++
		classMean.Zero()
		for _, i := range idx {
			classMean.AddScaledVec(classMean, 1/float64(len(idx)), y.RowView(i))
		}
		for _, i := range idx {
			centred.SubVec(y.RowView(i), classMean)
			sw.SymRankOne(sw, 1/float64(len(idx)), centred)
		}
		sb.SymRankOne(sb, 1, classMean)
	}
	if people < 2 {
		return nil, nil, ErrTooFewPeople
	}
	sw.ScaleSym(1/float64(people), sw)
	sb.ScaleSym(1/float64(people), sb)
	if shrink > 0 {
		tr := 0.0
		for i := range k {
			tr += sw.At(i, i)
		}
		sw.ScaleSym(1-shrink, sw)
		for i := range k {
			sw.SetSym(i, i, sw.At(i, i)+shrink*tr/float64(k))
		}
	}
	vals, vecs, err := eigenDescending(sw)
	if err != nil {
		return nil, nil, fmt.Errorf("within-class covariance: %w", err)
	}
	white := mat.NewDense(k, k, nil) // rows: eigenvectors scaled by 1/sqrt(eigenvalue)
	for i := range k {
		if vals[i] <= 1e-12 {
			return nil, nil, fmt.Errorf("within-class covariance is singular (eigenvalue %d is %g); use shrink > 0 or fewer PCA dimensions", i, vals[i])
		}
		s := 1 / math.Sqrt(vals[i])
		for j := range k {
			white.Set(i, j, vecs.At(j, i)*s)
		}
	}
	var b mat.Dense
	b.Mul(white, sb)
	b.Mul(&b, white.T())
	bs := mat.NewSymDense(k, nil)
	for i := range k {
		for j := i; j < k; j++ {
			bs.SetSym(i, j, (b.At(i, j)+b.At(j, i))/2)
		}
	}
	bvals, rot, err := eigenDescending(bs)
	if err != nil {
		return nil, nil, fmt.Errorf("between-class covariance: %w", err)
	}
	var disc mat.Dense
	disc.Mul(rot.T(), white)
	return &disc, bvals, nil
}

// eigenDescending returns the eigenvalues of s in descending order and the matching unit
// eigenvectors as columns, each with its largest component positive (a fixed sign makes the
// fit reproducible).
func eigenDescending(s mat.Symmetric) ([]float64, *mat.Dense, error) {
	var es mat.EigenSym
	if !es.Factorize(s, true) {
		return nil, nil, errors.New("eigendecomposition did not converge")
	}
	n := s.SymmetricDim()
	asc := es.Values(nil)
	var q mat.Dense
	es.VectorsTo(&q)
	vals := make([]float64, n)
	vecs := mat.NewDense(n, n, nil)
	for c := range n {
		src := n - 1 - c
		vals[c] = asc[src]
		sign, big := 1.0, 0.0
		for r := range n {
			if v := q.At(r, src); math.Abs(v) > big {
				big, sign = math.Abs(v), math.Copysign(1, v)
			}
		}
		for r := range n {
			vecs.Set(r, c, sign*q.At(r, src))
		}
	}
	return vals, vecs, nil
}

func identity(n int) *mat.Dense {
	m := mat.NewDense(n, n, nil)
	for i := range n {
		m.Set(i, i, 1)
	}
	return m
}

// apply maps a descriptor to its unit-length embedding.
func (p *projection) apply(d match.Descriptor, dst []float64) []float64 {
	out, _ := p.W.Dims()
	if dst == nil {
		dst = make([]float64, out)
	}
	x := match.CentredUnit(d, p.Mean)
	var en float64
	for i := range out {
		s := 0.0
		for j, w := range p.W.RawRowView(i) {
			s += w * x[j]
		}
		dst[i] = s
		en += s * s
	}
	en = math.Sqrt(en)
	if en > 0 {
		for i := range dst {
			dst[i] /= en
		}
	}
	return dst
}
