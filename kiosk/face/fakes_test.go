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

// fakeRecognizer stands in for dlib. Each test says what is in the frame, in frame pixels:
// scene runs once per frame (at Detect). Detect reports the boxes in the detection image (the
// frame scaled to its width); Recognize reports the frame's faces in the image it is handed
// (the detection image, or a crop cut around the face the way the analyzer cuts it), and
// crop, when set, changes what the models see there.
type fakeRecognizer struct {
	frame image.Rectangle
	scene func() ([]RawFace, error)
	crop  func(img *image.YCbCr, faces []RawFace) []RawFace
	seen  []RawFace       // the current frame's faces
	det   image.Rectangle // the current frame's detection image
}

func (f *fakeRecognizer) Detect(ctx context.Context, img *image.YCbCr, _ Detector) ([]image.Rectangle, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	faces, err := f.scene()
	if err != nil {
		return nil, err
	}
	f.seen, f.det = faces, img.Rect
	s := float64(img.Rect.Dx()) / float64(f.frame.Dx())
	boxes := make([]image.Rectangle, len(faces))
	for i, face := range faces {
		boxes[i] = inImage(face, f.frame.Min, s).Rect
	}
	return boxes, nil
}

func (f *fakeRecognizer) Recognize(ctx context.Context, img *image.YCbCr, _ Detector) ([]RawFace, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []RawFace
	for _, face := range f.seen {
		region := f.frame // the detection image
		if img.Rect != f.det {
			side := max(face.Rect.Dx(), face.Rect.Dy())
			region = face.Rect.Inset(-int(math.Ceil(describePad * float64(side)))).Intersect(f.frame)
		}
		out = append(out, inImage(face, region.Min, float64(img.Rect.Dx())/float64(region.Dx())))
	}
	if f.crop != nil {
		out = f.crop(img, out)
	}
	return out, nil
}

// inImage is face, given in frame pixels, as seen in an image of the frame from origin on,
// scaled by s (the inverse of the analyzer's mapping back).
func inImage(face RawFace, origin image.Point, s float64) RawFace {
	at := func(p image.Point) image.Point {
		return image.Pt(int(math.Round((float64(p.X-origin.X)+0.5)*s-0.5)), int(math.Round((float64(p.Y-origin.Y)+0.5)*s-0.5)))
	}
	out := RawFace{Rect: image.Rectangle{Min: at(face.Rect.Min), Max: at(face.Rect.Max)}, Descriptor: face.Descriptor}
	for _, p := range face.Landmarks {
		out.Landmarks = append(out.Landmarks, at(p))
	}
	return out
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
