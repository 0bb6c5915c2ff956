package match

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
)

// TemplateIndex is a snapshot's modern-engine templates (unit embeddings compared by cosine
// similarity, e.g. 512-d ArcFace-style) for 1:N search. Each template is stored as int8 with
// one float32 scale: 512 bytes + 4 per resident, so 200,000 residents take about 103 MB
// where float16 would take 205 MB and float32 410 MB (BENCHMARKS.md, "1:N over modern
// templates"). The search is exact brute force over the stored values: every template is
// scored, none is skipped by an approximate structure; the only error is the 8-bit
// rounding of both sides (measured: below 0.01 in similarity). It is immutable and safe for
// concurrent use.
type TemplateIndex struct {
	dim    int
	q      []int8    // len(keys) × dim quantised templates
	scales []float32 // template i ≈ scales[i] · q[i*dim:(i+1)*dim]
	keys   []string
}

// TemplateHit is a template's key with its cosine similarity to the probe.
type TemplateHit struct {
	Key        string
	Similarity float64
}

// ErrTemplate: a template or probe that cannot be compared (a length other than the index's,
// a NaN or infinite value, or all zeros).
var ErrTemplate = errors.New("template cannot be compared")

// TemplateIndexBuilder collects templates for a TemplateIndex.
type TemplateIndexBuilder struct {
	ix  *TemplateIndex
	err error
}

// NewTemplateIndexBuilder starts an index of dim-value templates for about n residents (a
// hint: more may be added).
func NewTemplateIndexBuilder(dim, n int) *TemplateIndexBuilder {
	n = max(n, 0)
	return &TemplateIndexBuilder{ix: &TemplateIndex{dim: dim, q: make([]int8, 0, n*dim),
		scales: make([]float32, 0, n), keys: make([]string, 0, n)}}
}

// Add quantises template t (scaled to unit length first) under key. A template that cannot
// be compared is an error naming it; the builder then refuses everything after it.
func (b *TemplateIndexBuilder) Add(key string, t []float32) error {
	if b.err != nil {
		return b.err
	}
	ix := b.ix
	start := len(ix.q)
	ix.q = slices.Grow(ix.q, ix.dim)[:start+ix.dim]
	scale, err := quantise(t, ix.dim, ix.q[start:])
	if err != nil {
		ix.q = ix.q[:start]
		b.err = fmt.Errorf("template index: template %d (%s): %w", len(ix.keys), key, err)
		return b.err
	}
	ix.scales = append(ix.scales, scale)
	ix.keys = append(ix.keys, key)
	return nil
}

// Index returns the index of everything added; the builder must not be used after.
func (b *TemplateIndexBuilder) Index() (*TemplateIndex, error) {
	if b.err != nil {
		return nil, b.err
	}
	ix := b.ix
	b.ix = nil
	return ix, nil
}

// quantise writes unit(t) as int8 into dst (len dim) and returns the scale that maps it back:
// the largest magnitude becomes ±127.
func quantise(t []float32, dim int, dst []int8) (float32, error) {
	if len(t) != dim {
		return 0, fmt.Errorf("%w: %d values, the index holds %d", ErrTemplate, len(t), dim)
	}
	var norm, peak float64
	for _, x := range t {
		v := float64(x)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%w: a value is not finite", ErrTemplate)
		}
		norm += v * v
		peak = max(peak, math.Abs(v))
	}
	if !(peak > 0) {
		return 0, fmt.Errorf("%w: all values are zero", ErrTemplate)
	}
	for i, x := range t {
		dst[i] = int8(math.Round(float64(x) * 127 / peak))
	}
	return float32(peak / 127 / math.Sqrt(norm)), nil
}

// Len is the number of templates.
func (ix *TemplateIndex) Len() int { return len(ix.keys) }

// Search returns up to k keys whose best template has a cosine similarity of at least minSim
// with probe, best first (ties by key), one hit per key.
func (ix *TemplateIndex) Search(probe []float32, minSim float64, k int) ([]TemplateHit, error) {
	pq := make([]int8, ix.dim)
	ps, err := quantise(probe, ix.dim, pq)
	if err != nil {
		return nil, fmt.Errorf("template search: probe: %w", err)
	}
	if k <= 0 || ix.Len() == 0 {
		return nil, nil
	}
	var mu sync.Mutex
	var all []TemplateHit
	parallel(ix.Len(), func(lo, hi int) {
		local := ix.scan(pq, ps, minSim, k, lo, hi)
		mu.Lock()
		all = append(all, local...)
		mu.Unlock()
	})
	// Each range holds its own best k keys; a key may come from several ranges.
	slices.SortFunc(all, byHit)
	out := all[:0]
	for _, h := range all {
		if !slices.ContainsFunc(out, func(o TemplateHit) bool { return o.Key == h.Key }) {
			out = append(out, h)
		}
	}
	return out[:min(len(out), k)], nil
}

func byHit(a, b TemplateHit) int {
	return cmp.Or(cmp.Compare(b.Similarity, a.Similarity), cmp.Compare(a.Key, b.Key))
}

// scan keeps the best k distinct keys in rows [lo, hi) at or above minSim, sorted best first.
func (ix *TemplateIndex) scan(pq []int8, ps float32, minSim float64, k, lo, hi int) []TemplateHit {
	dim := ix.dim
	top := make([]TemplateHit, 0, k)
	for i := lo; i < hi; i++ {
		sim := float64(ps) * float64(ix.scales[i]) * float64(dotInt8(pq, ix.q[i*dim:(i+1)*dim]))
		if sim < minSim || len(top) == k && byHit(TemplateHit{ix.keys[i], sim}, top[k-1]) >= 0 {
			continue
		}
		h := TemplateHit{ix.keys[i], sim}
		if j := slices.IndexFunc(top, func(o TemplateHit) bool { return o.Key == h.Key }); j >= 0 {
			if byHit(h, top[j]) >= 0 {
				continue
			}
			top = slices.Delete(top, j, j+1)
		} else if len(top) == k {
			top = top[:k-1]
		}
		at, _ := slices.BinarySearchFunc(top, h, byHit)
		top = slices.Insert(top, at, h)
	}
	return top
}

// dotInt8 is the dot product of two int8 vectors of the same length (at most 2^17 values, so
// the int32 sums cannot overflow). Eight values a step through fixed-length slices let the
// compiler drop the bounds checks (13% faster than four with indexing, measured).
func dotInt8(a, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	for len(a) >= 8 {
		x, y := a[:8:8], b[:8:8]
		s0 += int32(x[0])*int32(y[0]) + int32(x[4])*int32(y[4])
		s1 += int32(x[1])*int32(y[1]) + int32(x[5])*int32(y[5])
		s2 += int32(x[2])*int32(y[2]) + int32(x[6])*int32(y[6])
		s3 += int32(x[3])*int32(y[3]) + int32(x[7])*int32(y[7])
		a, b = a[8:], b[8:]
	}
	for i := range a {
		s0 += int32(a[i]) * int32(b[i])
	}
	return (s0 + s1) + (s2 + s3)
}
