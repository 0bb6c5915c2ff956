package qr

import (
	"math"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/common"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// otherDimensions returns the code sizes (4k+1 modules) worth trying besides skip, nearest
// first. gozxing derives the size from one black-white-black run measured between finder
// patterns; on blurred or noisy frames that run is a few percent off, the size lands on
// 4k+3 and gozxing gives up ("dimension = 51") although the finders were found. The finders'
// own module estimates (over 7 modules each) are steadier.
func otherDimensions(info *detector.FinderPatternInfo, skip int) []int {
	tl, tr, bl := info.GetTopLeft(), info.GetTopRight(), info.GetBottomLeft()
	ms := (tl.GetEstimatedModuleSize() + tr.GetEstimatedModuleSize() + bl.GetEstimatedModuleSize()) / 3
	if ms < 1 {
		return nil
	}
	raw := (gozxing.ResultPoint_Distance(tl, tr)+gozxing.ResultPoint_Distance(tl, bl))/(2*ms) + 7
	lower := int(math.Floor((raw-1)/4))*4 + 1
	dims := []int{lower, lower + 4}
	if raw-float64(lower) > 2 {
		dims[0], dims[1] = dims[1], dims[0]
	}
	out := dims[:0]
	for _, d := range dims {
		if d != skip && d >= 21 && d <= 177 {
			out = append(out, d)
		}
	}
	return out
}

// moduleMap maps the centre of module (x, y) to picture coordinates (pixel i spans i..i+1).
type moduleMap func(x, y int) (px, py float64)

// mapAs locates a code of dim modules from info as gozxing's detector does once it knows
// the size: find the bottom-right alignment pattern, fit a perspective transform.
func mapAs(bits *gozxing.BitMatrix, info *detector.FinderPatternInfo, dim int) (moduleMap, error) {
	version, err := decoder.Version_GetProvisionalVersionForDimension(dim)
	if err != nil {
		return nil, err
	}
	tl, tr, bl := info.GetTopLeft(), info.GetTopRight(), info.GetBottomLeft()
	ms := (tl.GetEstimatedModuleSize() + tr.GetEstimatedModuleSize() + bl.GetEstimatedModuleSize()) / 3
	var align *detector.AlignmentPattern
	if len(version.GetAlignmentPatternCenters()) > 0 {
		brX := tr.GetX() - tl.GetX() + bl.GetX()
		brY := tr.GetY() - tl.GetY() + bl.GetY()
		k := 1 - 3/float64(version.GetDimensionForVersion()-7)
		estX := tl.GetX() + k*(brX-tl.GetX())
		estY := tl.GetY() + k*(brY-tl.GetY())
		for allowance := 4.0; allowance <= 16 && align == nil; allowance *= 2 {
			align = findAlignment(bits, ms, estX, estY, allowance)
		}
	}
	transform := detector.Detector_createTransform(tl, tr, bl, align, dim)
	pt := make([]float64, 2)
	return func(x, y int) (float64, float64) {
		pt[0], pt[1] = float64(x)+0.5, float64(y)+0.5
		transform.TransformPoints(pt)
		return pt[0], pt[1]
	}, nil
}

// sampleBits reads the module grid from the binarized picture, one pixel per module.
func sampleBits(bits *gozxing.BitMatrix, m moduleMap, dim int, err error) (*gozxing.BitMatrix, error) {
	if err != nil {
		return nil, err
	}
	out, err := gozxing.NewSquareBitMatrix(dim)
	if err != nil {
		return nil, err
	}
	for y := range dim {
		for x := range dim {
			px, py := m(x, y)
			ix, iy := int(px), int(py)
			if px < 0 || py < 0 || ix >= bits.GetWidth() || iy >= bits.GetHeight() {
				return nil, gozxing.NewNotFoundException("module (%d,%d) maps outside the picture", x, y)
			}
			if bits.Get(ix, iy) {
				out.Set(x, y)
			}
		}
	}
	return out, nil
}

// sampleGrey reads the module grid from the grey picture: each module centre is
// interpolated (not rounded to a pixel) and compared with the mean of the modules around
// it, blended with the code's overall mid-grey. With 2 px modules a rounded position can be
// half a module off, and blur leaves a lone module too faint for the block thresholds of
// the hybrid binarizer but still darker or lighter than its neighbours.
func sampleGrey(p plane, m moduleMap, dim int, lightOnDark bool, err error) (*gozxing.BitMatrix, error) {
	if err != nil {
		return nil, err
	}
	v := make([]float64, dim*dim)
	lo, hi := 255.0, 0.0
	for y := range dim {
		for x := range dim {
			px, py := m(x, y)
			g, ok := p.at(px-0.5, py-0.5)
			if !ok {
				return nil, gozxing.NewNotFoundException("module (%d,%d) maps outside the picture", x, y)
			}
			v[y*dim+x] = g
			lo, hi = math.Min(lo, g), math.Max(hi, g)
		}
	}
	if hi-lo < 8 {
		return nil, gozxing.NewNotFoundException("no contrast in the code area")
	}
	mid := (lo + hi) / 2
	out, err := gozxing.NewSquareBitMatrix(dim)
	if err != nil {
		return nil, err
	}
	const r = 3 // 7×7 modules: about half of them dark in any part of a code
	for y := range dim {
		for x := range dim {
			var sum float64
			n := 0
			for yy := max(y-r, 0); yy <= min(y+r, dim-1); yy++ {
				for xx := max(x-r, 0); xx <= min(x+r, dim-1); xx++ {
					sum += v[yy*dim+xx]
					n++
				}
			}
			t := (sum/float64(n) + mid) / 2
			if (v[y*dim+x] < t) != lightOnDark {
				out.Set(x, y)
			}
		}
	}
	return out, nil
}

// findAlignment looks for an alignment pattern within allowance modules of (x, y).
func findAlignment(bits *gozxing.BitMatrix, ms, x, y, allowance float64) *detector.AlignmentPattern {
	r := int(allowance * ms)
	left, right := max(int(x)-r, 0), min(int(x)+r, bits.GetWidth()-1)
	top, bottom := max(int(y)-r, 0), min(int(y)+r, bits.GetHeight()-1)
	if float64(right-left) < 3*ms || float64(bottom-top) < 3*ms {
		return nil
	}
	ap, err := detector.NewAlignmentPatternFinder(bits, left, top, right-left, bottom-top, ms, nil).Find()
	if err != nil {
		return nil
	}
	return ap
}

// decodeSampled decodes a sampled grid of modules.
func decodeSampled(dec *decoder.Decoder, grid *gozxing.BitMatrix) (string, error) {
	res, err := dec.Decode(grid, nil)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// mapWarped maps a code of dim modules like mapAs, then corrects the mapping with
// every alignment pattern it can find. gozxing fits one perspective transform through three
// finders and the bottom-right alignment pattern; on a version 7+ code with 2–3 px modules,
// lens blur and a slightly bent or tilted screen move the middle of the code by a module or
// more from that fit (zxing-cpp samples with all alignment patterns for the same reason).
// Each module is shifted by the inverse-distance-weighted offsets measured at the anchors.
func mapWarped(bits *gozxing.BitMatrix, info *detector.FinderPatternInfo, dim int) (moduleMap, error) {
	version, err := decoder.Version_GetProvisionalVersionForDimension(dim)
	if err != nil {
		return nil, err
	}
	centers := version.GetAlignmentPatternCenters()
	if len(centers) < 3 { // versions 1–6: one alignment pattern, nothing to add
		return nil, errNoAnchors
	}
	tl, tr, bl := info.GetTopLeft(), info.GetTopRight(), info.GetBottomLeft()
	ms := (tl.GetEstimatedModuleSize() + tr.GetEstimatedModuleSize() + bl.GetEstimatedModuleSize()) / 3
	last := centers[len(centers)-1]
	br := alignmentNear(bits, detector.Detector_createTransform(tl, tr, bl, nil, dim), ms, last, last, 4)
	var brPattern *detector.AlignmentPattern
	if br.found {
		brPattern = detector.NewAlignmentPattern(br.x, br.y, ms)
	}
	transform := detector.Detector_createTransform(tl, tr, bl, brPattern, dim)

	d := float64(dim)
	anchors := []anchor{{mx: 3.5, my: 3.5}, {mx: d - 3.5, my: 3.5}, {mx: 3.5, my: d - 3.5}}
	for _, ay := range centers {
		for _, ax := range centers {
			if (ax == centers[0] && (ay == centers[0] || ay == last)) || (ax == last && ay == centers[0]) {
				continue // under a finder pattern
			}
			if a := alignmentNear(bits, transform, ms, ax, ay, 2); a.found {
				anchors = append(anchors, a)
			}
		}
	}
	if len(anchors) < 5 {
		return nil, errNoAnchors
	}

	pt := make([]float64, 2)
	return func(x, y int) (float64, float64) {
		mx, my := float64(x)+0.5, float64(y)+0.5
		pt[0], pt[1] = mx, my
		transform.TransformPoints(pt)
		var wsum, dx, dy float64
		for _, a := range anchors {
			w := 1 / ((mx-a.mx)*(mx-a.mx) + (my-a.my)*(my-a.my) + 1)
			wsum += w
			dx += w * a.dx
			dy += w * a.dy
		}
		return pt[0] + dx/wsum, pt[1] + dy/wsum
	}, nil
}

var errNoAnchors = gozxing.NewNotFoundException("too few alignment patterns to refine the grid")

// anchor is a point of the code (module coordinates mx, my) and how far from the fitted
// transform it was actually seen (dx, dy, pixels).
type anchor struct {
	mx, my, dx, dy float64
	x, y           float64 // where it was seen
	found          bool
}

// alignmentNear looks for the alignment pattern centred on module (ax, ay) within allowance
// modules of where transform puts it.
func alignmentNear(bits *gozxing.BitMatrix, transform *common.PerspectiveTransform, ms float64, ax, ay int, allowance float64) anchor {
	mx, my := float64(ax)+0.5, float64(ay)+0.5
	pt := []float64{mx, my}
	transform.TransformPoints(pt)
	ap := findAlignment(bits, ms, pt[0], pt[1], allowance)
	if ap == nil {
		return anchor{}
	}
	dx, dy := ap.GetX()-pt[0], ap.GetY()-pt[1]
	if dx*dx+dy*dy > 4*ms*ms*allowance*allowance { // too far to be this pattern
		return anchor{}
	}
	return anchor{mx: mx, my: my, dx: dx, dy: dy, x: ap.GetX(), y: ap.GetY(), found: true}
}
