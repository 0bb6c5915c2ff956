package match

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// unitTemplates returns n random unit templates of dim values (cosine between two of them
// about N(0, 1/dim), like strangers' ArcFace templates).
func unitTemplates(n, dim int, seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 0x7e))
	out := make([][]float32, n)
	for i := range out {
		v := make([]float64, dim)
		for j := range v {
			v[j] = rng.NormFloat64()
		}
		out[i] = unit32(v)
	}
	return out
}

func unit32(v []float64) []float32 {
	var n float64
	for _, x := range v {
		n += x * x
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x / math.Sqrt(n))
	}
	return out
}

// near returns a unit template whose cosine with unit t is about sim.
func near(t []float32, sim float64, rng *rand.Rand) []float32 {
	v := make([]float64, len(t))
	noise := math.Sqrt(1-sim*sim) / math.Sqrt(float64(len(t)))
	for i, x := range t {
		v[i] = sim*float64(x) + noise*rng.NormFloat64()
	}
	return unit32(v)
}

func cos32(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func buildTemplateIndex(t testing.TB, keys []string, ts [][]float32) *TemplateIndex {
	t.Helper()
	b := NewTemplateIndexBuilder(len(ts[0]), len(ts))
	for i, v := range ts {
		if err := b.Add(keys[i], v); err != nil {
			t.Fatal(err)
		}
	}
	ix, err := b.Index()
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func seqKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("r%05d", i)
	}
	return keys
}

func TestTemplateIndexSearch(t *testing.T) {
	const dim = 512
	ts := unitTemplates(2000, dim, 1)
	keys := seqKeys(len(ts))
	keys[1999] = keys[10] // resident r00010 has two templates
	ix := buildTemplateIndex(t, keys, ts)
	rng := rand.New(rand.NewPCG(9, 9))
	tests := []struct {
		name   string
		probe  []float32
		minSim float64
		k      int
		want   []string // keys in order
	}{
		{"a resident's own template", ts[5], 0.5, 5, []string{"r00005"}},
		{"a resident seen again (cos 0.7)", near(ts[42], 0.7, rng), 0.5, 5, []string{"r00042"}},
		{"a stranger matches no one", unitTemplates(1, dim, 77)[0], 0.5, 5, nil},
		{"one hit per key: the better of two templates", near(ts[1999], 0.9, rng), 0.5, 5, []string{"r00010"}},
		{"k caps the hits, best first", mix(ts[3], ts[4], ts[6]), 0.3, 2, nil}, // checked below
		{"k zero", ts[5], 0.5, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hits, err := ix.Search(tc.probe, tc.minSim, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "k caps the hits, best first" {
				if len(hits) != 2 || hits[0].Similarity < hits[1].Similarity {
					t.Fatalf("hits %v: want the best 2 of 3 residents, best first", hits)
				}
				return
			}
			var got []string
			for _, h := range hits {
				got = append(got, h.Key)
				if exact := bestCos(tc.probe, ts, keys, h.Key); math.Abs(h.Similarity-exact) > 0.01 {
					t.Errorf("%s: similarity %.4f, exact %.4f", h.Key, h.Similarity, exact)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("keys %v, want %v", got, tc.want)
			}
		})
	}
}

// mix is the unit mean of templates: about equally like each.
func mix(ts ...[]float32) []float32 {
	v := make([]float64, len(ts[0]))
	for _, t := range ts {
		for i, x := range t {
			v[i] += float64(x)
		}
	}
	return unit32(v)
}

func bestCos(p []float32, ts [][]float32, keys []string, key string) float64 {
	best := math.Inf(-1)
	for i, k := range keys {
		if k == key {
			best = max(best, cos32(p, ts[i]))
		}
	}
	return best
}

func TestTemplateIndexRefusesBadTemplates(t *testing.T) {
	nan := make([]float32, 8)
	nan[3] = float32(math.NaN())
	inf := make([]float32, 8)
	inf[0] = float32(math.Inf(1))
	for _, tc := range []struct {
		name string
		t    []float32
	}{
		{"wrong length", make([]float32, 7)},
		{"all zero", make([]float32, 8)},
		{"NaN", nan},
		{"infinite", inf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewTemplateIndexBuilder(8, 1)
			if err := b.Add("bad", tc.t); !errors.Is(err, ErrTemplate) {
				t.Fatalf("Add: %v, want ErrTemplate", err)
			}
			if _, err := b.Index(); !errors.Is(err, ErrTemplate) {
				t.Fatalf("Index after a refused template: %v, want ErrTemplate", err)
			}
			ok := NewTemplateIndexBuilder(8, 1)
			if err := ok.Add("good", unitTemplates(1, 8, 3)[0]); err != nil {
				t.Fatal(err)
			}
			ix, _ := ok.Index()
			if _, err := ix.Search(tc.t, 0, 1); !errors.Is(err, ErrTemplate) {
				t.Fatalf("Search: %v, want ErrTemplate", err)
			}
		})
	}
}

// TestTemplateIndexAgreesWithFloat32 compares the int8 search with exact float32 search:
// the same best resident and the similarity within 0.01.
func TestTemplateIndexAgreesWithFloat32(t *testing.T) {
	const n, dim = 5000, 512
	ts := unitTemplates(n, dim, 4)
	keys := seqKeys(n)
	ix := buildTemplateIndex(t, keys, ts)
	rng := rand.New(rand.NewPCG(5, 5))
	for q := range 50 {
		probe := near(ts[rng.IntN(n)], 0.3+0.6*rng.Float64(), rng)
		top1, maxErr := exactTop1(ix, probe, ts, keys)
		hits, err := ix.Search(probe, -1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if hits[0].Key != top1 {
			t.Errorf("probe %d: int8 top-1 %s, float32 %s", q, hits[0].Key, top1)
		}
		if maxErr > 0.01 {
			t.Errorf("probe %d: max similarity error %.4f", q, maxErr)
		}
	}
}

// exactTop1 is float32 brute force's best key and the largest difference between the index's
// similarity and the exact one over every template.
func exactTop1(ix *TemplateIndex, probe []float32, ts [][]float32, keys []string) (string, float64) {
	pq := make([]int8, ix.dim)
	ps, _ := quantise(probe, ix.dim, pq)
	best, bestSim, maxErr := "", math.Inf(-1), 0.0
	for i, v := range ts {
		exact := cos32(probe, v)
		if exact > bestSim {
			best, bestSim = keys[i], exact
		}
		approx := float64(ps) * float64(ix.scales[i]) * float64(dotInt8(pq, ix.q[i*ix.dim:(i+1)*ix.dim]))
		maxErr = max(maxErr, math.Abs(approx-exact))
	}
	return best, maxErr
}

const benchTemplates = 200_000

// BenchmarkTemplateSearch200k times one 1:N search over 200,000 512-d templates and reports
// the index's heap (MB), the top-1 agreement with float32 exact search and the largest
// similarity error over the probes (genuine-like, cosine 0.3–0.9 with one resident).
func BenchmarkTemplateSearch200k(b *testing.B) {
	const dim = 512
	ts := unitTemplates(benchTemplates, dim, 1)
	keys := seqKeys(benchTemplates)
	before := heapInUse()
	ix := buildTemplateIndex(b, keys, ts)
	mb := float64(heapInUse()-before) / 1e6
	rng := rand.New(rand.NewPCG(2, 2))
	probes := make([][]float32, 16)
	for i := range probes {
		probes[i] = near(ts[rng.IntN(len(ts))], 0.3+0.6*rng.Float64(), rng)
	}
	agree, maxErr := 0, 0.0
	for _, p := range probes {
		top1, e := exactTop1(ix, p, ts, keys)
		hits, err := ix.Search(p, -1, 1)
		if err != nil {
			b.Fatal(err)
		}
		if hits[0].Key == top1 {
			agree++
		}
		maxErr = max(maxErr, e)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := ix.Search(probes[i%len(probes)], 0.56, 10); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(mb, "index-MB")
	b.ReportMetric(float64(agree)/float64(len(probes)), "top1-agree")
	b.ReportMetric(maxErr, "max-sim-err")
	runtime.KeepAlive(ts)
}

// BenchmarkIndexMemory200k reports the dlib index's heap at 200,000 references, beside
// BenchmarkTemplateSearch200k's index-MB.
func BenchmarkIndexMemory200k(b *testing.B) {
	c := mustDefault(b)
	refs := mustSynthetic(b, c, benchTemplates, 1)
	before := heapInUse()
	ix, err := NewIndex(c, refs)
	if err != nil {
		b.Fatal(err)
	}
	mb := float64(heapInUse()-before) / 1e6
	runtime.KeepAlive(refs) // else the collection above frees them and hides the index
	for b.Loop() {
		runtime.KeepAlive(ix)
	}
	b.ReportMetric(mb, "index-MB")
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestDotInt8(t *testing.T) {
	for _, n := range []int{0, 3, 8, 13, 512} {
		a, b := make([]int8, n), make([]int8, n)
		var want int32
		for i := range a {
			a[i], b[i] = int8(i*37-128), int8(127-i*11)
			want += int32(a[i]) * int32(b[i])
		}
		if got := dotInt8(a, b); got != want {
			t.Errorf("n=%d: %d, want %d", n, got, want)
		}
	}
}
