package qr

import (
	"fmt"
	"math"
	"sort"

	"github.com/makiuchi-d/gozxing"
	multidetector "github.com/makiuchi-d/gozxing/multi/qrcode/detector"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// binarizer selects how grey becomes black and white.
type binarizer uint8

const (
	hybrid binarizer = iota // local thresholds: survives glare and uneven light
	global                  // one threshold per frame: survives blur better on small modules
)

// outcome is what one attempt learnt about a frame.
type outcome struct {
	text string
	// found are the finder-pattern candidates seen. Frames with none are unlikely to hold
	// a code, which lets the scanner skip its expensive attempts on empty scenes.
	found []*detector.FinderPattern
	// small are loosely matched finder patterns of codes with tiny modules (see smallFinders).
	small []smallFinder
	// outline is the decoded code's quadrilateral in the plane's pixels: its outer corners,
	// estimated from the finder patterns that decoded (top-left, top-right, bottom-right,
	// bottom-left).
	outline []fpoint
}

type fpoint struct{ x, y float64 }

// outlineOf estimates a code's outer corners from its three finder patterns: the centres are
// 3.5 modules in from the edges, and the fourth corner completes the parallelogram.
func outlineOf(info *detector.FinderPatternInfo) []fpoint {
	tl, tr, bl := info.GetTopLeft(), info.GetTopRight(), info.GetBottomLeft()
	c := func(p *detector.FinderPattern) fpoint { return fpoint{p.GetX(), p.GetY()} }
	ptl, ptr, pbl := c(tl), c(tr), c(bl)
	pbr := fpoint{ptr.x + pbl.x - ptl.x, ptr.y + pbl.y - ptl.y}
	mid := fpoint{(ptr.x + pbl.x) / 2, (ptr.y + pbl.y) / 2}
	// Push each centre outwards along its diagonal by 3.5 modules (√2 × 3.5 along it).
	module := (tl.GetEstimatedModuleSize() + tr.GetEstimatedModuleSize() + bl.GetEstimatedModuleSize()) / 3
	out := make([]fpoint, 0, 4)
	for _, p := range []fpoint{ptl, ptr, pbr, pbl} {
		dx, dy := p.x-mid.x, p.y-mid.y
		d := math.Hypot(dx, dy)
		if d == 0 {
			return nil
		}
		k := (d + 3.5*math.Sqrt2*module) / d
		out = append(out, fpoint{mid.x + dx*k, mid.y + dy*k})
	}
	return out
}

// maxTriples bounds how many finder-pattern triples are tried beyond gozxing's own choice.
// Busy backgrounds produce false candidates and gozxing gives up after its first triple.
const maxTriples = 4

// maxGrids bounds the sampled grids decoded per binarized picture.
const maxGrids = 8

var errGridBudget = gozxing.NewNotFoundException("grid budget spent")

// decodePlane binarizes p and looks for a code, also as light-on-dark when inverted is set
// (the binarized picture is flipped rather than binarized again); lookSmall also collects
// finder patterns with tiny modules when nothing is read. gozxing's TRY_HARDER hint
// is not used: it scans every third row instead of every fifth and read no extra frame of
// the robustness table while costing more.
func decodePlane(p plane, b binarizer, inverted, lookSmall bool) (out outcome, err error) {
	defer func() {
		// gozxing is a port that can index out of range on odd pictures; a camera frame
		// must never bring the kiosk down.
		if r := recover(); r != nil {
			out, err = outcome{}, fmt.Errorf("%w: decoder failed: %v", ErrNotFound, r)
		}
	}()
	var bits *gozxing.BitMatrix
	if b == global {
		bits, err = gozxing.NewGlobalHistgramBinarizer(newLuminance(p)).GetBlackMatrix()
	} else {
		bits, err = hybridBits(p)
	}
	if err != nil { // a frame without enough contrast to pick a threshold
		return outcome{}, fmt.Errorf("%w: binarize: %v", ErrNotFound, err)
	}
	out, err = decodeBits(bits, p, false)
	if err == nil {
		return out, nil
	}
	if lookSmall {
		out.small = smallFinders(bits)
	}
	if !inverted {
		return out, err
	}
	bits.FlipAll()
	inv, err := decodeBits(bits, p, true)
	inv.found = append(inv.found, out.found...)
	inv.small = out.small
	return inv, err
}

// decodeBits finds finder patterns in bits and decodes the best-looking triples. grey is
// the picture bits was binarized from (lightOnDark: bits were flipped); when the binarized
// grid of a triple fails, the same grid is read again from grey (see sampleGrey).
func decodeBits(bits *gozxing.BitMatrix, grey plane, lightOnDark bool) (outcome, error) {
	var out outcome
	finder := detector.NewFinderPatternFinder(bits, nil)
	info, findErr := finder.Find(nil)
	centers := finder.GetPossibleCenters()
	out.found = centers
	dec := decoder.NewDecoder()
	grids := 0
	// decodeGrid decodes one sampled grid, at most maxGrids per call of decodeBits: a busy
	// scene can offer many triples and each costs a sample and an error-correction pass.
	decodeGrid := func(grid *gozxing.BitMatrix, err error) (string, error) {
		if err != nil {
			return "", err
		}
		if grids++; grids > maxGrids {
			return "", errGridBudget
		}
		return decodeSampled(dec, grid)
	}
	tryInfo := func(info *detector.FinderPatternInfo) (string, error) {
		dr, err := detector.NewDetector(bits).ProcessFinderPatternInfo(info)
		tried := 0
		if err == nil {
			tried = dr.GetBits().GetWidth()
			text, decErr := decodeGrid(dr.GetBits(), nil)
			if decErr == nil {
				return text, nil
			}
			err = decErr
		}
		dims := otherDimensions(info, tried)
		for _, dim := range dims {
			m, mErr := mapAs(bits, info, dim)
			if text, dErr := decodeGrid(sampleBits(bits, m, dim, mErr)); dErr == nil {
				return text, nil
			}
		}
		if tried != 0 {
			dims = append([]int{tried}, dims...)
		}
		for _, dim := range dims {
			m, mErr := mapWarped(bits, info, dim)
			if text, dErr := decodeGrid(sampleBits(bits, m, dim, mErr)); dErr == nil {
				return text, nil
			}
			if mErr != nil {
				m, mErr = mapAs(bits, info, dim)
			}
			if text, dErr := decodeGrid(sampleGrey(grey, m, dim, lightOnDark, mErr)); dErr == nil {
				return text, nil
			}
		}
		return "", err
	}
	var lastErr error = findErr
	if findErr == nil {
		text, err := tryInfo(info)
		if err == nil {
			out.text, out.outline = text, outlineOf(info)
			return out, nil
		}
		lastErr = err
	}
	tried := []*detector.FinderPatternInfo{info}
	for _, t := range altTriples(centers, tried) {
		text, err := tryInfo(t)
		if err == nil {
			out.text, out.outline = text, outlineOf(t)
			return out, nil
		}
		lastErr = err
		tried = append(tried, t)
	}
	if findErr != nil {
		return out, fmt.Errorf("%w: %v", ErrNotFound, lastErr)
	}
	// gozxing's finder stops scanning once three candidates agree in size. A 1:1:3:1:1 run
	// in the data area (masking makes it rare, not impossible: about 1 in 600 signed tokens)
	// can be one of them, and the real third corner below it is never seen. A triple that
	// was found but did not decode is worth one scan of every row, with a fresh grid budget.
	full := multidetector.NewMultiFinderPatternFinder(bits, nil)
	_, _ = full.FindMulti(nil) // only its candidates are wanted; the ranking is altTriples'
	grids = 0
	for _, t := range altTriples(full.GetPossibleCenters(), tried) {
		text, err := tryInfo(t)
		if err == nil {
			out.found = full.GetPossibleCenters()
			out.text, out.outline = text, outlineOf(t)
			return out, nil
		}
		lastErr = err
	}
	return out, fmt.Errorf("%w: %v", ErrNotFound, lastErr)
}

// altTriples ranks other triples of finder candidates by how close they come to an
// isosceles right triangle of similar-sized patterns, skipping those already tried.
func altTriples(c []*detector.FinderPattern, tried []*detector.FinderPatternInfo) []*detector.FinderPatternInfo {
	// Only candidates confirmed on more than one scan line: noise and busy scenes leave
	// dozens of one-line candidates, and each triple tried costs a grid sample and a decode.
	confirmed := make([]*detector.FinderPattern, 0, len(c))
	for _, p := range c {
		if p.GetCount() >= 2 {
			confirmed = append(confirmed, p)
		}
	}
	c = confirmed
	if len(c) < 3 {
		return nil
	}
	if len(c) > 12 { // keep the search small: the most often confirmed candidates
		sort.SliceStable(c, func(i, j int) bool { return c[i].GetCount() > c[j].GetCount() })
		c = c[:12]
	}
	type triple struct {
		p          [3]*detector.FinderPattern
		distortion float64
	}
	var ts []triple
	for i := 0; i < len(c); i++ {
		for j := i + 1; j < len(c); j++ {
			for k := j + 1; k < len(c); k++ {
				a, b, d := c[i], c[j], c[k]
				lo := math.Min(a.GetEstimatedModuleSize(), math.Min(b.GetEstimatedModuleSize(), d.GetEstimatedModuleSize()))
				hi := math.Max(a.GetEstimatedModuleSize(), math.Max(b.GetEstimatedModuleSize(), d.GetEstimatedModuleSize()))
				if hi > 1.4*lo {
					continue
				}
				s := []float64{sq(a, b), sq(b, d), sq(a, d)}
				sort.Float64s(s)
				if s[0] < 49*lo*lo { // patterns overlap: not three corners of one code
					continue
				}
				ts = append(ts, triple{[3]*detector.FinderPattern{a, b, d}, (math.Abs(s[2]-2*s[1]) + math.Abs(s[2]-2*s[0])) / s[2]})
			}
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].distortion < ts[j].distortion })
	var out []*detector.FinderPatternInfo
	for _, t := range ts {
		if len(out) == maxTriples {
			break
		}
		if t.distortion > 0.5 {
			break
		}
		bl, tl, tr := gozxing.ResultPoint_OrderBestPatterns(t.p[0], t.p[1], t.p[2])
		info := detector.NewFinderPatternInfo(bl.(*detector.FinderPattern), tl.(*detector.FinderPattern), tr.(*detector.FinderPattern))
		if triedBefore(info, tried) {
			continue
		}
		out = append(out, info)
	}
	return out
}

func sq(a, b *detector.FinderPattern) float64 {
	dx, dy := a.GetX()-b.GetX(), a.GetY()-b.GetY()
	return dx*dx + dy*dy
}

// triedBefore compares positions, not pointers: the full scan finds the same patterns again.
func triedBefore(info *detector.FinderPatternInfo, tried []*detector.FinderPatternInfo) bool {
	same := func(a, b *detector.FinderPattern) bool { return a.GetX() == b.GetX() && a.GetY() == b.GetY() }
	for _, t := range tried {
		if t != nil && same(info.GetTopLeft(), t.GetTopLeft()) && same(info.GetTopRight(), t.GetTopRight()) &&
			same(info.GetBottomLeft(), t.GetBottomLeft()) {
			return true
		}
	}
	return false
}
