package face

import (
	"context"
	"errors"
	"fmt"
	"image"

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

// chipIOD is the inter-eye distance in dlib's 150 px descriptor chip (padding 0.25). When
// the face in the detection image is at least this large, the chip dlib cut from it holds all
// the detail the network uses, and the descriptor from the detection pass is kept. A smaller
// face is described again from a full-resolution crop.
const chipIOD = 55

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
	// Refined is true when the descriptor came from a second dlib pass on a full-resolution
	// crop (the face was small in the detection image).
	Refined bool
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
	faces, err := a.rec.Recognize(ctx, img, a.opt.Detector)
	if err != nil {
		return Observation{}, err
	}
	switch len(faces) {
	case 0:
		return Observation{}, quality.HintNoFace
	case 1:
	default:
		return Observation{}, quality.HintSeveralFaces
	}
	f := faces[0]
	shape, lm, err := scaleLandmarks(f.Landmarks, float64(factor), b.Min)
	if err != nil {
		return Observation{}, err
	}
	obs := Observation{Box: scaleRect(f.Rect, factor).Add(b.Min), Landmarks: lm, Shape: shape, Descriptor: f.Descriptor}
	if factor > 1 {
		if pose, err := quality.EstimatePose(lm); err == nil && pose.IOD/float64(factor) < chipIOD {
			if err := a.refine(ctx, frame, &obs); err != nil {
				return Observation{}, err
			}
		}
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

// refine describes the face again from a full-resolution crop around it. HOG runs on the
// crop too (go-face has no landmark-only entry point), but the crop is small, so it is cheap.
// If dlib finds no single face in the crop, the detection-pass result is kept.
func (a *Analyzer) refine(ctx context.Context, frame image.Image, obs *Observation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	box := obs.Box
	pad := max(box.Dx(), box.Dy()) * 3 / 4
	crop := box.Inset(-pad).Intersect(frame.Bounds())
	faces, err := a.rec.Recognize(ctx, scaledYCbCr(frame, crop, 1), a.opt.Detector)
	if err != nil {
		return err
	}
	if len(faces) != 1 {
		return nil
	}
	f := faces[0]
	shape, lm, err := scaleLandmarks(f.Landmarks, 1, crop.Min)
	if err != nil {
		return err
	}
	obs.Box = f.Rect.Add(crop.Min)
	obs.Landmarks, obs.Shape = lm, shape
	obs.Descriptor = f.Descriptor
	obs.Refined = true
	return nil
}

// DetectionImage scales frame down by the integer factor that brings it to at most
// DetectWidth pixels wide. Coordinates found in it are frame coordinates divided by factor,
// relative to the frame's origin.
func (a *Analyzer) DetectionImage(frame image.Image) (img *image.YCbCr, factor int) {
	b := frame.Bounds()
	factor = max(1, (b.Dx()+a.opt.DetectWidth-1)/a.opt.DetectWidth)
	return scaledYCbCr(frame, b, factor), factor
}

func scaleRect(r image.Rectangle, f int) image.Rectangle {
	return image.Rect(r.Min.X*f, r.Min.Y*f, r.Max.X*f, r.Max.Y*f)
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
