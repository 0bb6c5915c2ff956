package face

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"slices"

	"github.com/ikd-field/ikd/kiosk/face/quality"
)

// Options tune the per-frame analysis.
type Options struct {
	// Detector is HOG (default) or CNN.
	Detector Detector
	// DetectWidth is the width the frame is scaled down to (by an integer factor) before
	// detection. HOG costs about 25 ms at 640×480 and 73 ms at 1280×720 here.
	DetectWidth int
	// Quality holds the quality gate's thresholds.
	Quality quality.Config
}

// DefaultOptions: HOG on a frame scaled to at most 640 px wide.
func DefaultOptions() Options {
	return Options{Detector: HOG, DetectWidth: 640, Quality: quality.Defaults()}
}

// describeSide is the face box side, in pixels, of the image a face is described from.
// dlib cuts its 150 px chip (padding 0.25) from that image; a HOG box this size has an
// inter-eye distance of about 52 px, near the chip's own 55, so the chip loses nothing
// visible. A larger face is scaled down to it, which keeps the HOG pass go-face makes on the
// crop cheap (140 and 120 gave the same calibration; 120 is 1 ms faster); a smaller face is
// described at the frame's own resolution.
const describeSide = 120

// describePad is the margin around the detected box in the crop, as a fraction of the box
// side: enough for dlib's HOG to find the same face again in the crop.
const describePad = 0.2

// Observation is one analysed face in one frame. Coordinates are frame pixels.
type Observation struct {
	Box       image.Rectangle
	Landmarks quality.Landmarks
	// Shape is every point the landmark model gave (5 or 68), in frame pixels; the modern
	// engine aligns its crop from them.
	Shape      []quality.Point
	Descriptor Descriptor
	// Embedding is the modern engine's template of the face; the verifier computes it for the
	// frames it uses (nil until then, and without the engine).
	Embedding Embedding
	// frame is the analysed frame, kept so that the modern engine describes only the best
	// frames of a capture, at the end, rather than every frame of the challenge.
	frame   image.Image
	Quality quality.Report
	// DescribeScale is the scale of the crop the face was described from (1: the frame's own
	// resolution; less: a large face scaled down).
	DescribeScale float64
}

// Analyzer runs detection, landmarks, descriptor and the quality gate on frames. It is safe
// for concurrent use when its Recognizer is (dlib's own locks serialise the heavy stages).
type Analyzer struct {
	rec Recognizer
	opt Options
}

// NewAnalyzer checks opt and returns an analyzer using rec.
func NewAnalyzer(rec Recognizer, opt Options) (*Analyzer, error) {
	if rec == nil {
		return nil, errors.New("face analyzer: no recognizer")
	}
	if opt.DetectWidth < 80 {
		return nil, fmt.Errorf("face analyzer: detect width %d too small", opt.DetectWidth)
	}
	if err := opt.Quality.Validate(); err != nil {
		return nil, err
	}
	return &Analyzer{rec: rec, opt: opt}, nil
}

// Options returns the analyzer's options.
func (a *Analyzer) Options() Options { return a.opt }

// Analyze finds exactly one face in frame, describes it and judges its quality. No face or
// several faces is a quality.Hint error (HintNoFace, HintSeveralFaces); a face that fails
// the gate is returned with its Report's failures, not as an error, so the caller can still
// use its pose (liveness reads the yaw of turned heads).
func (a *Analyzer) Analyze(ctx context.Context, frame image.Image) (Observation, error) {
	if err := ctx.Err(); err != nil {
		return Observation{}, err
	}
	b := frame.Bounds()
	if b.Dx() < 32 || b.Dy() < 32 {
		return Observation{}, fmt.Errorf("analyze face: frame %dx%d too small", b.Dx(), b.Dy())
	}
	img, factor := a.DetectionImage(frame)
	boxes, err := a.rec.Detect(ctx, img, a.opt.Detector)
	if err != nil {
		return Observation{}, err
	}
	switch len(boxes) {
	case 0:
		return Observation{}, quality.HintNoFace
	case 1:
	default:
		return Observation{}, quality.HintSeveralFaces
	}
	detected := view{img: img, origin: b.Min, inv: float64(factor)}
	obs, err := a.describe(ctx, frame, scaleRect(boxes[0], float64(factor)).Add(b.Min), detected)
	if err != nil {
		return Observation{}, err
	}
	rep, err := a.opt.Quality.Check(frame, obs.Landmarks)
	if err != nil {
		// Landmarks that make no geometric sense: treat as no usable face.
		return Observation{}, quality.HintNoFace
	}
	obs.Quality = rep
	obs.frame = frame
	return obs, nil
}

// view is an image of part of the frame: its pixel p is frame pixel origin + p·inv.
type view struct {
	img    *image.YCbCr
	origin image.Point
	inv    float64
}

// describe runs the landmark model and the descriptor network once, on a crop around box
// (frame pixels): at the frame's resolution for a small face, scaled to describeSide for a
// large one. go-face finds the face again in the crop first (it has no landmarks-from-box
// call), which on a crop this small costs a few milliseconds. HOG misses the odd face in a
// crop that it found in the whole image (its cell grid falls differently), so a miss tries
// the crop at the frame's resolution and then the detection image itself.
func (a *Analyzer) describe(ctx context.Context, frame image.Image, box image.Rectangle, detected view) (Observation, error) {
	side := max(box.Dx(), box.Dy())
	pad := int(math.Ceil(describePad * float64(side)))
	region := box.Inset(-pad).Intersect(frame.Bounds())
	full := scaledYCbCr(frame, region, 1)
	views := []view{{img: full, origin: region.Min, inv: 1}}
	if crop := resizedYCbCr(full, min(1, describeSide/float64(side))); crop != full {
		// The inverse of the crop's rounded width (its height rounds within half a pixel).
		views = slices.Insert(views, 0, view{img: crop, origin: region.Min, inv: float64(region.Dx()) / float64(crop.Rect.Dx())})
	}
	for _, v := range append(views, detected) {
		faces, err := a.rec.Recognize(ctx, v.img, a.opt.Detector)
		if err != nil {
			return Observation{}, err
		}
		// The face the detection pass found is the one overlapping its box most.
		best, overlap := -1, 0
		for i, f := range faces {
			r := scaleRect(f.Rect, v.inv).Add(v.origin).Intersect(box)
			if n := r.Dx() * r.Dy(); n > overlap {
				best, overlap = i, n
			}
		}
		if best < 0 {
			continue
		}
		f := faces[best]
		shape, lm, err := scaleLandmarks(f.Landmarks, v.inv, v.origin)
		if err != nil {
			return Observation{}, err
		}
		return Observation{Box: scaleRect(f.Rect, v.inv).Add(v.origin), Landmarks: lm, Shape: shape,
			Descriptor: f.Descriptor, DescribeScale: 1 / v.inv}, nil
	}
	return Observation{}, quality.HintNoFace
}

// DetectionImage scales frame down by the integer factor that brings it to at most
// DetectWidth pixels wide. Coordinates found in it are frame coordinates divided by factor,
// relative to the frame's origin.
func (a *Analyzer) DetectionImage(frame image.Image) (img *image.YCbCr, factor int) {
	b := frame.Bounds()
	factor = max(1, (b.Dx()+a.opt.DetectWidth-1)/a.opt.DetectWidth)
	return scaledYCbCr(frame, b, factor), factor
}

func scaleRect(r image.Rectangle, f float64) image.Rectangle {
	sc := func(v int) int { return int(math.Round(float64(v) * f)) }
	return image.Rect(sc(r.Min.X), sc(r.Min.Y), sc(r.Max.X), sc(r.Max.Y))
}

// scaleLandmarks maps the landmark model's integer points to frame coordinates (the centre
// of the source pixel, scaled, plus the frame origin) and picks the 5 the gate reads.
func scaleLandmarks(pts []image.Point, f float64, origin image.Point) ([]quality.Point, quality.Landmarks, error) {
	shape := make([]quality.Point, len(pts))
	for i, p := range pts {
		shape[i] = quality.Point{
			X: (float64(p.X)+0.5)*f - 0.5 + float64(origin.X),
			Y: (float64(p.Y)+0.5)*f - 0.5 + float64(origin.Y),
		}
	}
	l, err := quality.FromShape(shape)
	if err != nil {
		return nil, l, fmt.Errorf("face landmarks: %w", err)
	}
	return shape, l, nil
}
