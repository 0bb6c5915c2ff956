package qr

import (
	"image"
	"math"
	"math/bits"
	"sort"

	"github.com/makiuchi-d/gozxing"
)

// smallFinder is a loosely matched finder pattern with modules of 1–2.6 px: gozxing's finder
// wants each run within half a module of its ideal length, which blur and the sensor grid
// rarely allow at 2 px per module, so such codes leave no candidates at all.
type smallFinder struct {
	x, y, ms float64
	rows     int // scan rows that matched it
}

// smallFinders scans every second row of bits for dark-light-dark-light-dark runs of about
// 1:1:3:1:1 with small modules, confirms each vertically and merges hits on one pattern.
// It jumps from edge to edge (about 1 ms on a 720p frame), so it runs on every frame the
// first rung misses.
func smallFinders(bits *gozxing.BitMatrix) []smallFinder {
	w, h := bits.GetWidth(), bits.GetHeight()
	var out []smallFinder
	row := gozxing.NewBitArray(w)
	var runs [5]int
	for y := 0; y < h; y += 2 {
		row = bits.GetRow(y, row)
		words := row.GetBitArray()
		n := 0 // runs collected, the first dark
		for x := 0; x < w; {
			dark := words[x>>5]&(1<<(x&31)) != 0
			end := runEnd(words, x, w, dark)
			if n > 0 || dark {
				if n == 5 { // keep the last three runs, starting with a dark one
					runs[0], runs[1], runs[2] = runs[2], runs[3], runs[4]
					n = 3
				}
				runs[n] = end - x
				n++
				if n == 5 { // dark, light, dark, light, dark
					if ms, ok := looseRatio(runs); ok {
						cx := float64(end-runs[4]-runs[3]) - float64(runs[2])/2
						if cy, ok := confirmColumn(bits, int(cx), y, ms); ok {
							out = mergeFinder(out, smallFinder{cx, cy, ms, 1})
						}
					}
				}
			}
			x = end
		}
	}
	return out
}

// runEnd returns where the run of dark (or light) pixels starting at x ends, jumping over
// whole words: most rows of a frame have few edges.
func runEnd(words []uint32, x, w int, dark bool) int {
	for i := x >> 5; i < len(words); i++ {
		word := words[i]
		if dark {
			word = ^word
		}
		if i == x>>5 {
			word &= ^uint32(0) << (x & 31)
		}
		if word != 0 {
			return min(i<<5+bits.TrailingZeros32(word), w)
		}
	}
	return w
}

// looseRatio accepts dark-light-dark-light-dark runs with modules of 1–2.6 px whose centre
// run is clearly the widest.
func looseRatio(r [5]int) (float64, bool) {
	total := r[0] + r[1] + r[2] + r[3] + r[4]
	ms := float64(total) / 7
	if ms < 1 || ms > 2.6 {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if float64(r[i]) > 2*ms+0.5 {
			return 0, false
		}
	}
	c := float64(r[2])
	return ms, c >= 2*ms && c <= 4.5*ms && r[2] > max(r[0], r[1], r[3], r[4])
}

// confirmColumn checks the same pattern vertically through (x, y) and returns its centre row.
func confirmColumn(bits *gozxing.BitMatrix, x, y int, ms float64) (float64, bool) {
	h := bits.GetHeight()
	if !bits.Get(x, y) {
		return 0, false
	}
	var r [5]int
	top := y
	for ; top >= 0 && bits.Get(x, top); top-- {
	}
	bottom := y
	for ; bottom < h && bits.Get(x, bottom); bottom++ {
	}
	r[2] = bottom - top - 1
	limit := int(3*ms) + 2
	run := func(from, step int, dark bool) (int, int) {
		n := 0
		for p := from; p >= 0 && p < h && bits.Get(x, p) == dark && n <= limit; p += step {
			n++
		}
		return n, from + step*n
	}
	var next int
	r[1], next = run(top, -1, false)
	r[0], _ = run(next, -1, true)
	r[3], next = run(bottom, 1, false)
	r[4], _ = run(next, 1, true)
	if r[0] == 0 || r[1] == 0 || r[3] == 0 || r[4] == 0 {
		return 0, false
	}
	vms, ok := looseRatio(r)
	if !ok || vms > 1.6*ms || ms > 1.6*vms {
		return 0, false
	}
	return float64(top+bottom) / 2, true
}

// mergeFinder adds f unless it lies on a pattern already found, which then counts one more row.
func mergeFinder(fs []smallFinder, f smallFinder) []smallFinder {
	for i, g := range fs {
		if math.Abs(g.x-f.x) < 3*g.ms && math.Abs(g.y-f.y) < 3*g.ms {
			fs[i].rows++
			return fs
		}
	}
	return append(fs, f)
}

// smallCodeArea is where a code with three of fs as finder patterns could be: around the
// triple of similar module size closest to an isosceles right triangle, grown by the
// triangle's size (a wrong third corner still leaves the code inside). Empty when no
// triple fits.
func smallCodeArea(fs []smallFinder, bounds image.Rectangle) image.Rectangle {
	if len(fs) > 24 { // texture, not a code: not worth a 2× zoom of the frame
		return image.Rectangle{}
	}
	// A finder's 3-module core spans two or more scan rows; text glyphs that happen to
	// match usually span one.
	confirmed := make([]smallFinder, 0, len(fs))
	for _, f := range fs {
		if f.rows >= 2 {
			confirmed = append(confirmed, f)
		}
	}
	fs = confirmed
	best, bestDist := [3]int{}, 0.5
	for i := range fs {
		for j := i + 1; j < len(fs); j++ {
			for k := j + 1; k < len(fs); k++ {
				a, b, c := fs[i], fs[j], fs[k]
				lo, hi := min(a.ms, b.ms, c.ms), max(a.ms, b.ms, c.ms)
				if hi > 1.6*lo {
					continue
				}
				d := []float64{dist(a, b), dist(b, c), dist(a, c)}
				sort.Float64s(d)
				if d[0] < 14*lo || d[2] > 240*hi { // versions 1–40: 14 to 170 modules apart
					continue
				}
				s0, s1, s2 := d[0]*d[0], d[1]*d[1], d[2]*d[2]
				if dd := (math.Abs(s2-2*s1) + math.Abs(s2-2*s0)) / s2; dd < bestDist {
					best, bestDist = [3]int{i, j, k}, dd
				}
			}
		}
	}
	if bestDist == 0.5 {
		return image.Rectangle{}
	}
	a, b, c := fs[best[0]], fs[best[1]], fs[best[2]]
	x0, x1 := min(a.x, b.x, c.x), max(a.x, b.x, c.x)
	y0, y1 := min(a.y, b.y, c.y), max(a.y, b.y, c.y)
	m := int(math.Ceil(max(x1-x0, y1-y0) + 8*max(a.ms, b.ms, c.ms)))
	return image.Rect(int(x0)-m, int(y0)-m, int(x1)+m, int(y1)+m).Intersect(bounds)
}

func dist(a, b smallFinder) float64 { return math.Hypot(a.x-b.x, a.y-b.y) }
