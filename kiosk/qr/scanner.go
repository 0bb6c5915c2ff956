package qr

import (
	"context"
	"image"
	"math"
	"time"

	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// Scanner is the kiosk's QR reader for a webcam pointed at a phone screen.
//
// Per frame it runs a ladder of attempts, cheapest first, within a time budget:
//
//	full     the frame's luminance as is (hybrid binarizer; also as light-on-dark)
//	smooth   a 3×3 binomial blur first: sensor noise otherwise breaks the finder ratios
//	sharpen  an unsharp mask: a lens blur of half a module hides the finder patterns
//	zoom     a crop around the finder-pattern candidates seen so far, upsampled 2×
//	         (raw, smoothed, smoothed with a global threshold, sharpened): small, blurred
//	         modules become readable; tiny-module finders gozxing misses count too
//	stretch  local contrast amplified 4×: a dim screen or one washed out by a reflection
//	half     a 2×-downscaled frame: large codes, coarse noise and screen moiré
//
// Expensive rungs run only when a cheap one saw finder-pattern candidates, so a frame with
// nothing to read usually costs one hybrid binarization (plain gozxing also converts the
// picture first, which costs more than that). Codes that leave no candidates at all (very
// dim, or blurred by half a module) are caught by blind looks every fourth or eighth frame
// without a read. What decoded the last frame (and where) is tried first on the next, so a
// steady code in view is read within two frames once found.
//
// A Scanner is not safe for concurrent use; give each camera stream its own.
type Scanner struct {
	// Budget bounds the time spent on one frame; attempts already started finish. 0 means 80 ms;
	// a negative Budget (NoBudget) runs every rung the frame deserves.
	Budget time.Duration

	last    string          // rung that decoded the previous frame, "" if none
	lastROI image.Rectangle // where the code was, for the zoom rungs
	unread  int             // frames since the last read: paces the blind looks
	outline []image.Point   // the last read code's corners in the frame
}

// Outline returns the corners (top-left, top-right, bottom-right, bottom-left, in the frame's
// pixels) of the code the last Decode read, for drawing it over the preview; nil when the
// last Decode read nothing.
func (s *Scanner) Outline() []image.Point { return s.outline }

// rung names: stable, they appear in benchmarks and logs.
const (
	rungFull       = "full"
	rungSmooth     = "smooth"
	rungSharpen    = "sharpen"
	rungZoom       = "zoom"
	rungZoomSmooth = "zoom-smooth"
	rungZoomGlobal = "zoom-global"
	rungZoomSharp  = "zoom-sharpen"
	rungStretch    = "stretch"
	rungHalf       = "half"
)

const defaultBudget = 80 * time.Millisecond

// NoBudget as a Scanner's Budget lets the result depend on the picture alone, not on the
// machine's speed: for a still picture from a file, and for tests.
const NoBudget time.Duration = -1

// Decode implements Decoder.
func (s *Scanner) Decode(ctx context.Context, img image.Image) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	budget := s.Budget
	if budget == 0 {
		budget = defaultBudget
	}
	deadline := time.Now().Add(budget)
	f := &frame{full: lumaPlane(img)}
	if f.full.w < 21 || f.full.h < 21 {
		return "", ErrNotFound
	}

	order := []string{rungFull, rungSmooth, rungSharpen, rungZoom, rungZoomSmooth, rungZoomGlobal, rungZoomSharp, rungStretch, rungHalf}
	if s.last != "" { // what worked last frame first
		f.roi = s.lastROI
		order = append([]string{s.last}, without(order, s.last)...)
	}
	for i, rung := range order {
		if i > 0 && (budget > 0 && time.Now().After(deadline) || ctx.Err() != nil) {
			break
		}
		if !s.worthTrying(rung, f) {
			continue
		}
		text, roi, outline, ok := f.try(rung)
		if ok {
			s.last, s.lastROI, s.unread, s.outline = rung, roi, 0, outline
			return text, nil
		}
		if i == 0 && s.last != "" { // the code moved: zoom where this frame's candidates say
			f.roi, f.zoomedSmooth = image.Rectangle{}, plane{}
		}
	}
	s.last, s.outline = "", nil
	s.unread++ // not reset by candidates: a busy scene must not turn every look blind
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return "", ErrNotFound
}

// worthTrying gates the rungs that cost more than the full-frame attempt.
func (s *Scanner) worthTrying(rung string, f *frame) bool {
	switch rung {
	case rungSharpen:
		// Blur that hides the finders leaves no candidates either. Sharpening and its
		// finder search cost about four hybrid passes, so it follows plausible candidates
		// only, or looks blind every eighth frame: a blurred code is read within eight.
		return f.plausible() > 0 || s.unread%8 == 0
	case rungSmooth:
		// Noise hides finder patterns from the first rung but leaves broken candidates
		// behind; a clean empty scene leaves none. Empty-looking frames still get a
		// smoothed look every fourth frame, so an empty stream costs about one hybrid pass
		// per frame (the median frame).
		return len(f.candidates) > 0 || s.unread%4 == 0
	case rungStretch:
		// Very low contrast leaves no candidates at all. Stretching a busy empty scene
		// is costly (it turns texture into dozens of candidates), so blind looks come
		// every eighth empty frame: a code on a dim screen is read within eight frames.
		return len(f.candidates) > 0 || s.unread%8 == 0
	case rungZoom, rungZoomSmooth, rungZoomGlobal, rungZoomSharp:
		return !f.roi.Empty() || f.plausible() > 0 || !f.smallArea().Empty()
	case rungHalf:
		// Cheap (a quarter of the pixels), and averaging 2×2 blocks cancels screen moiré
		// that leaves no candidates behind: a blind look every fourth empty frame.
		return f.plausible() > 0 || s.unread%4 == 0
	}
	return true
}

// frame holds one frame's planes and what the attempts learnt about it.
type frame struct {
	full, smoothed plane
	hasSmoothed    bool
	zoomedSmooth   plane // the smoothed crop, upsampled; shared by two rungs
	candidates     []*detector.FinderPattern
	small          []smallFinder   // finder patterns with tiny modules, from the full rung
	roi            image.Rectangle // zoom area; empty until candidates or the last frame set it
}

func (f *frame) smooth() plane {
	if !f.hasSmoothed {
		f.smoothed, f.hasSmoothed = f.full.smooth(), true
	}
	return f.smoothed
}

// try runs one rung and returns the text, the area the code was found in and its outline
// in the frame.
func (f *frame) try(rung string) (string, image.Rectangle, []image.Point, bool) {
	whole := image.Rect(0, 0, f.full.w, f.full.h)
	var p plane
	area := whole
	bin := hybrid
	switch rung {
	case rungFull:
		p = f.full
	case rungSmooth:
		p = f.smooth()
	case rungSharpen:
		p = f.full.sharpen()
	case rungHalf:
		p = f.full.half()
	case rungStretch:
		p = f.full.stretch()
	case rungZoom, rungZoomSmooth, rungZoomGlobal, rungZoomSharp:
		if f.roi.Empty() {
			f.roi = f.zoomArea()
		}
		if f.roi.Empty() {
			return "", image.Rectangle{}, nil, false
		}
		area = f.roi
		switch rung {
		case rungZoom:
			p = f.full.crop(area).double()
		case rungZoomSharp:
			p = f.full.crop(area).double().sharpen()
		}
		if p.pix != nil {
			break
		}
		if f.zoomedSmooth.pix == nil {
			f.zoomedSmooth = f.smooth().crop(area).double()
		}
		p = f.zoomedSmooth
		if rung == rungZoomGlobal {
			bin = global
		}
	}
	// Dark-mode codes are looked for too, except on the stretched and sharpened planes
	// (blind looks at rare pictures: each inverted pass costs another finder search).
	out, err := decodePlane(p, bin, rung != rungStretch && rung != rungSharpen, rung == rungFull)
	if rung == rungFull || rung == rungSmooth { // sharpened texture looks like finders: no gate
		f.candidates = append(f.candidates, out.found...)
	}
	if rung == rungFull {
		f.small = out.small
	}
	if err != nil {
		return "", image.Rectangle{}, nil, false
	}
	// Back from the rung's plane to the frame: the half rung halved it, the zoom rungs
	// cropped area and doubled it.
	scale, off := 1.0, image.Point{}
	switch rung {
	case rungHalf:
		scale = 2
	case rungZoom, rungZoomSmooth, rungZoomGlobal, rungZoomSharp:
		scale, off = 0.5, area.Min
	}
	var outline []image.Point
	for _, p := range out.outline {
		outline = append(outline, image.Pt(off.X+int(math.Round(p.x*scale)), off.Y+int(math.Round(p.y*scale))))
	}
	if area == whole {
		area = image.Rectangle{}
	}
	return out.text, area, outline, true
}

// plausible counts finder candidates that could belong to a code: at least 1.5 px per
// module (noise yields candidates of about 1 px per module).
func (f *frame) plausible() int {
	n := 0
	for _, c := range f.candidates {
		if c.GetEstimatedModuleSize() >= 1.5 {
			n++
		}
	}
	return n
}

// zoomArea is the part of the frame a code with the plausible candidates as finder
// patterns could occupy: up to about a version 10 code (57 modules) in every direction.
func (f *frame) zoomArea() image.Rectangle {
	var best *detector.FinderPattern
	for _, c := range f.candidates {
		if c.GetEstimatedModuleSize() >= 1.5 && (best == nil || c.GetCount() > best.GetCount()) {
			best = c
		}
	}
	if best == nil { // modules too small for gozxing's finder: maybe three loose matches
		return f.smallArea()
	}
	reach := best.GetEstimatedModuleSize() * 60
	var r image.Rectangle
	for _, c := range f.candidates {
		if c.GetEstimatedModuleSize() < 1.5 || math.Abs(c.GetX()-best.GetX()) > reach || math.Abs(c.GetY()-best.GetY()) > reach {
			continue
		}
		m := int(math.Ceil(c.GetEstimatedModuleSize() * 60))
		x, y := int(c.GetX()), int(c.GetY())
		r = r.Union(image.Rect(x-m, y-m, x+m, y+m))
	}
	if f.plausible() < 3 { // one or two candidates: tiny-module finders may show the rest
		r = r.Union(f.smallArea())
	}
	return r.Intersect(image.Rect(0, 0, f.full.w, f.full.h))
}

// smallArea is where three finder patterns with tiny modules say a code is, if they do.
func (f *frame) smallArea() image.Rectangle {
	return smallCodeArea(f.small, image.Rect(0, 0, f.full.w, f.full.h))
}

func without(list []string, drop string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

var _ Decoder = (*Scanner)(nil)
