package face

import (
	"context"
	"image"
	"math"
	"math/rand/v2"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk/face/match"
	"github.com/ikd-field/ikd/kiosk/face/quality"
)

// fakeRecognizer stands in for dlib: each test says what the models see.
type fakeRecognizer struct {
	recognize func(ctx context.Context, img *image.YCbCr, det Detector) ([]RawFace, error)
}

func (f *fakeRecognizer) Recognize(ctx context.Context, img *image.YCbCr, det Detector) ([]RawFace, error) {
	return f.recognize(ctx, img, det)
}

var _ Recognizer = (*fakeRecognizer)(nil)

// fakeScorer returns a fixed score and records what it was given.
type fakeScorer struct {
	score     match.Score
	err       error
	live, ref int
}

func (f *fakeScorer) Score(live, refs []Descriptor) (match.Score, error) {
	f.live, f.ref = len(live), len(refs)
	return f.score, f.err
}

var _ Scorer = (*fakeScorer)(nil)

// fakeSource is a camera that hands out frames from next.
type fakeSource struct {
	next func(ctx context.Context) (camera.Frame, error)
}

func (f *fakeSource) Next(ctx context.Context) (camera.Frame, error) { return f.next(ctx) }
func (f *fakeSource) Close() error                                   { return nil }

var _ camera.Source = (*fakeSource)(nil)

// synthFace is a face as a landmark model with points 5 or 68 would report it: at centre
// with inter-eye distance iod, turned by yaw degrees, with descriptor d. In a 68-point
// shape only the points quality.FromShape reads carry the face; the rest sit at the box
// corner, so that reading a wrong index shows.
func synthFace(points int, centre quality.Point, iod, yaw float64, d Descriptor) RawFace {
	l := quality.SyntheticLandmarks(centre, iod, 0, yaw)
	box := image.Rect(int(centre.X-iod), int(centre.Y-iod), int(centre.X+iod), int(centre.Y+1.5*iod))
	pts := make([]image.Point, points)
	for i := range pts {
		pts[i] = box.Min
	}
	idx := []int{0, 1, 2, 3, 4}
	if points == 68 {
		idx = []int{45, 42, 36, 39, 33}
	}
	for i, j := range idx {
		pts[j] = image.Pt(int(math.Round(l[i].X)), int(math.Round(l[i].Y)))
	}
	return RawFace{Rect: box, Landmarks: pts, Descriptor: d}
}

// texturedFrame is a w×h frame with skin-like detail everywhere, so that the quality gate's
// light and focus checks pass wherever a synthetic face is put.
func texturedFrame(w, h int) *image.YCbCr {
	r := rand.New(rand.NewPCG(1, 2))
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		for x := range w {
			v := 130 + 70*(0.6*math.Sin(float64(x)/40)*math.Cos(float64(y)/50)+0.4*math.Sin(float64(x)*0.8)*math.Sin(float64(y)*0.7)) + (r.Float64()*2-1)*7
			m.Y[m.YOffset(x, y)] = uint8(max(0, min(255, v)))
		}
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = 128, 128
	}
	return m
}

// descriptor returns a descriptor near base, different for every seed (sensor noise).
func descriptor(base float32, seed uint64) Descriptor {
	r := rand.New(rand.NewPCG(seed, 9))
	var d Descriptor
	for i := range d {
		d[i] = base + float32(r.NormFloat64()*0.002)
	}
	return d
}
