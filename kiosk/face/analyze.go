package face

import (
	"context"
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
	// JPEGQuality is the quality of the JPEG handed to dlib. The descriptor is often computed
	// from this image, so it is not set low: at 90 the re-encoding error is below the sensor
	// noise of a webcam.
	JPEGQuality int
	// Quality holds the quality gate's thresholds.
	Quality quality.Config
}

// DefaultOptions: HOG on a frame scaled to at most 640 px wide.
func DefaultOptions() Options {
	return Options{Detector: HOG, DetectWidth: 640, JPEGQuality: 90, Quality: quality.Defaults()}
}

// chipIOD is the inter-eye distance in dlib's 150 px descriptor chip (padding 0.25). When
// the face in the detection image is at least this large, the chip dlib cut from it holds all
// the detail the network uses, and the descriptor from the detection pass is kept. A smaller
// face is described again from a full-resolution crop.
const chipIOD = 55

// Observation is one analysed face in one frame. Coordinates are frame pixels.
type Observation struct {
	Box        image.Rectangle
	Landmarks  quality.Landmarks
	Descriptor Descriptor
	Quality    quality.Report
	// Refined is true when the descriptor came from a second dlib pass on a full-resolution
	// crop (the face was small in the detection image).
	Refined bool
}

// Analyzer runs detection, landmarks, descriptor and the quality gate on frames. It is safe
// for concurrent use; frames are analysed one at a time per Analyzer call but may overlap
// across goroutines (dlib's own locks serialise the heavy stages).
type Analyzer struct {
	engine *Engine
	opt    Options
}

// NewAnalyzer checks opt and returns an analyzer using engine.
func NewAnalyzer(engine *Engine, opt Options) (*Analyzer, error) {
	if opt.DetectWidth < 80 {
		return nil, fmt.Errorf("face analyzer: detect width %d too small", opt.DetectWidth)
	}
	if opt.JPEGQuality < 1 || opt.JPEGQuality > 100 {
		return nil, fmt.Errorf("face analyzer: JPEG quality %d outside 1..100", opt.JPEGQuality)
	}
	if err := opt.Quality.Validate(); err != nil {
		return nil, err
	}
	return &Analyzer{engine: engine, opt: opt}, nil
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
	data, factor, err := a.DetectionJPEG(frame)
	if err != nil {
		return Observation{}, err
	}
	faces, err := a.engine.Recognize(data, a.opt.Detector)
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
	obs := Observation{
		Box:        scaleRect(f.Rect, factor).Add(b.Min),
		Landmarks:  scaleLandmarks(f.Landmarks, float64(factor), b.Min),
		Descriptor: f.Descriptor,
	}
	if factor > 1 {
		if pose, err := quality.EstimatePose(scaleLandmarks(f.Landmarks, 1, image.Point{})); err == nil && pose.IOD < chipIOD {
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
	data, err := encodeJPEG(scaledYCbCr(frame, crop, 1), a.opt.JPEGQuality)
	if err != nil {
		return err
	}
	faces, err := a.engine.Recognize(data, a.opt.Detector)
	if err != nil {
		return err
	}
	if len(faces) != 1 {
		return nil
	}
	f := faces[0]
	obs.Box = f.Rect.Add(crop.Min)
	obs.Landmarks = scaleLandmarks(f.Landmarks, 1, crop.Min)
	obs.Descriptor = f.Descriptor
	obs.Refined = true
	return nil
}

// DetectionJPEG scales frame down by the integer factor that brings it to at most
// DetectWidth pixels wide and encodes it for dlib. Coordinates dlib finds in it are frame
// coordinates divided by factor, relative to the frame's origin.
func (a *Analyzer) DetectionJPEG(frame image.Image) (data []byte, factor int, err error) {
	b := frame.Bounds()
	factor = max(1, (b.Dx()+a.opt.DetectWidth-1)/a.opt.DetectWidth)
	data, err = encodeJPEG(scaledYCbCr(frame, b, factor), a.opt.JPEGQuality)
	return data, factor, err
}

func scaleRect(r image.Rectangle, f int) image.Rectangle {
	return image.Rect(r.Min.X*f, r.Min.Y*f, r.Max.X*f, r.Max.Y*f)
}

// scaleLandmarks maps dlib's integer points to frame coordinates: the centre of the source
// pixel, scaled, plus the frame origin.
func scaleLandmarks(pts [5]image.Point, f float64, origin image.Point) quality.Landmarks {
	var l quality.Landmarks
	for i, p := range pts {
		l[i] = quality.Point{
			X: (float64(p.X)+0.5)*f - 0.5 + float64(origin.X),
			Y: (float64(p.Y)+0.5)*f - 0.5 + float64(origin.Y),
		}
	}
	return l
}
