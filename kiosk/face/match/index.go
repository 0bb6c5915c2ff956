package match

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// Reference is one reference descriptor of a person, keyed by the caller (a NIK); a person
// may have several.
type Reference struct {
	Key        string
	Descriptor Descriptor
}

// Hit is a reference person whose score against the live face is within the search limit.
type Hit struct {
	Key   string
	Score Score
}

// Index is a snapshot's references, projected once, for 1:N search: does a live face match
// anyone else in the snapshot? It is immutable and safe for concurrent use.
type Index struct {
	cal *Calibration
	dim int
	// vecs holds len(keys) × dim unit embeddings, rows in reference order, as bfloat16 (the
	// upper half of a float32): half the memory of float32, which keeps a 200,000-resident
	// snapshot's two indexes (this and the modern engine's) within the kiosk's 400 MB. Each
	// value is rounded to 8 significant bits (|Δv| ≤ 2⁻⁸·|v|), so a cosine moves by at most
	// 2⁻⁸ (Σ|q||Δv| ≤ 2⁻⁸·Σ|q||v| ≤ 2⁻⁸ for unit vectors): bf16CosineError.
	vecs []uint16
	// tails[i*checks+c] is the norm of reference i's embedding after its first
	// (c+1)·block values: with the probe's, it bounds what the rest can add to a dot product.
	tails  []float32
	checks int
	keys   []string
}

// block is how many dimensions Search accumulates between early-abandon checks.
const block = 16

// NewIndex projects every reference with c. A reference with a NaN or infinite value is an
// error naming it, since it could never match and would hide a broken snapshot.
func NewIndex(c *Calibration, refs []Reference) (*Index, error) {
	checks := (c.rows - 1) / block
	ix := &Index{cal: c, dim: c.rows, checks: checks, keys: make([]string, len(refs)),
		vecs: make([]uint16, len(refs)*c.rows), tails: make([]float32, len(refs)*checks)}
	for i, r := range refs {
		if err := r.Descriptor.Validate(); err != nil {
			return nil, fmt.Errorf("index reference %d (%s): %w", i, r.Key, err)
		}
		ix.keys[i] = r.Key
	}
	ix.project(refs, 0)
	return ix, nil
}

// project writes refs' embeddings into rows start… of vecs and tails, in parallel.
func (ix *Index) project(refs []Reference, start int) {
	parallel(len(refs), func(lo, hi int) {
		v := make([]float32, ix.dim)
		for i := lo; i < hi; i++ {
			row := start + i
			ix.cal.embedInto(refs[i].Descriptor, v)
			stored := ix.vecs[row*ix.dim : (row+1)*ix.dim]
			for k, x := range v {
				stored[k] = toBF16(x)
				v[k] = fromBF16(stored[k]) // the bounds are of the values searched
			}
			tailNorms(v, ix.tails[row*ix.checks:(row+1)*ix.checks])
		}
	})
}

// bf16CosineError bounds how far a cosine against a stored row is from the exact one.
const bf16CosineError = 1.0 / 256

// toBF16 rounds f to the nearest bfloat16 (ties to even); f is finite.
func toBF16(f float32) uint16 {
	b := math.Float32bits(f)
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

func fromBF16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// Len is the number of references.
func (ix *Index) Len() int { return len(ix.keys) }

// Search returns the people (keys) with a reference scoring below limit against the live
// face (one or more frames, fused), best first, one hit per key. Pass the match threshold
// to find everyone the live face would be accepted as.
func (ix *Index) Search(live []Descriptor, limit Score) ([]Hit, error) {
	probe, err := ix.cal.fuse(live)
	if err != nil {
		return nil, fmt.Errorf("search: live face: %w", err)
	}
	q := make([]float32, ix.dim)
	for i, v := range probe {
		q[i] = float32(v)
	}
	minCos := float32(ix.cal.cosineFor(limit))
	qTails := make([]float32, ix.checks)
	tailNorms(q, qTails)
	var mu sync.Mutex
	var found []int
	parallel(len(ix.keys), func(lo, hi int) {
		local := ix.scan(q, qTails, minCos, lo, hi)
		mu.Lock()
		found = append(found, local...)
		mu.Unlock()
	})
	best := map[string]Score{}
	for _, i := range found {
		s := ix.cal.FromCosine(dot64(probe, ix.vecs[i*ix.dim:(i+1)*ix.dim]))
		if old, ok := best[ix.keys[i]]; !ok || s < old {
			best[ix.keys[i]] = s
		}
	}
	hits := make([]Hit, 0, len(best))
	for k, s := range best {
		if s < limit {
			hits = append(hits, Hit{Key: k, Score: s})
		}
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(a.Score, b.Score), cmp.Compare(a.Key, b.Key))
	})
	return hits, nil
}

// scan returns the rows in [lo, hi) whose cosine with q may reach minCos. After each block
// the partial dot product plus the product of both remaining norms (Cauchy–Schwarz) bounds
// the final cosine; rows are ordered by between-class variance, so for most other people the
// bound falls below minCos within the first blocks and the row is abandoned. The bound gets
// a little float32 slack; Search rescores candidates in float64.
func (ix *Index) scan(q, qTails []float32, minCos float32, lo, hi int) []int {
	dim, checks := ix.dim, ix.checks
	floor := minCos - 1e-4
	var out []int
rows:
	for i := lo; i < hi; i++ {
		v := ix.vecs[i*dim : (i+1)*dim : (i+1)*dim]
		tails := ix.tails[i*checks : (i+1)*checks : (i+1)*checks]
		var dot float32
		for c := range checks {
			vb := v[c*block : (c+1)*block : (c+1)*block]
			qb := q[c*block : (c+1)*block : (c+1)*block]
			var s0, s1, s2, s3 float32
			for k := 0; k < block; k += 4 {
				s0 += fromBF16(vb[k]) * qb[k]
				s1 += fromBF16(vb[k+1]) * qb[k+1]
				s2 += fromBF16(vb[k+2]) * qb[k+2]
				s3 += fromBF16(vb[k+3]) * qb[k+3]
			}
			dot += (s0 + s1) + (s2 + s3)
			if dot+tails[c]*qTails[c] < floor {
				continue rows
			}
		}
		for k := checks * block; k < dim; k++ {
			dot += fromBF16(v[k]) * q[k]
		}
		if dot >= floor {
			out = append(out, i)
		}
	}
	return out
}

// tailNorms writes into dst the norm of v after each of its first len(dst) blocks.
func tailNorms(v, dst []float32) {
	var sq float64
	next := len(v)
	for c := len(dst) - 1; c >= 0; c-- {
		for _, x := range v[(c+1)*block : next] {
			sq += float64(x) * float64(x)
		}
		next = (c + 1) * block
		dst[c] = float32(math.Sqrt(sq))
	}
}

func dot64(a []float64, b []uint16) float64 {
	s := 0.0
	for i, v := range b {
		s += a[i] * float64(fromBF16(v))
	}
	return s
}

// parallel runs f over [0, n) split into one contiguous range per CPU and waits for all.
func parallel(n int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), max(n/4096, 1))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() { f(lo, hi) })
	}
	wg.Wait()
}

// SyntheticReferences returns n references keyed "synthetic-<i>" whose descriptors are
// drawn from a Gaussian model of the calibration data: in the projected space each direction
// has the within-class variance 1 plus its between-class variance, mapped back through the
// projection. They spread like real people do where it matters for speed (early abandon
// in Search), for timing 1:N search at snapshot scale (ikdctl bench face) without personal
// data. It fails only if the calibration cannot be inverted (fewer rows than Dim).
func SyntheticReferences(c *Calibration, n int, seed uint64) ([]Reference, error) {
	if c.rows != Dim || len(c.between) != Dim {
		return nil, fmt.Errorf("synthetic references: need a full-rank whitening calibration")
	}
	w := mat.NewDense(Dim, Dim, nil)
	for i := range Dim {
		for j := range Dim {
			w.Set(i, j, float64(c.proj[i*Dim+j]))
		}
	}
	var inv mat.Dense
	if err := inv.Inverse(w); err != nil {
		return nil, fmt.Errorf("synthetic references: invert projection: %w", err)
	}
	rng := rand.New(rand.NewPCG(seed, 0x1d))
	refs := make([]Reference, n)
	z := make([]float64, Dim)
	for i := range refs {
		for k := range z {
			z[k] = math.Sqrt(1+float64(c.between[k])) * rng.NormFloat64()
		}
		var d Descriptor
		var norm float64
		for j := range d {
			v := float64(c.mean[j]) + dot(inv.RawRowView(j), z)
			d[j] = float32(v)
			norm += v * v
		}
		// Real descriptors have a norm of about 1.4; the projection ignores the norm anyway.
		s := math.Sqrt2 / math.Sqrt(norm)
		for j := range d {
			d[j] = float32(float64(d[j]) * s)
		}
		refs[i] = Reference{Key: fmt.Sprintf("synthetic-%d", i), Descriptor: d}
	}
	return refs, nil
}
