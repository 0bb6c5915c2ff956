package dlib

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sync"
	"testing"

	"github.com/ikd-field/ikd/internal/slowtest"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/facetest"
	"github.com/ikd-field/ikd/kiosk/face/quality"
)

// toYCbCr converts m to a 4:2:0 YCbCr image at the same bounds, as a webcam frame arrives.
func toYCbCr(m image.Image) *image.YCbCr { return face.ToYCbCr(m) }

// rgba copies m into a new RGBA image.
func rgba(m image.Image) *image.RGBA {
	out := image.NewRGBA(m.Bounds())
	draw.Draw(out, out.Bounds(), m, m.Bounds().Min, draw.Src)
	return out
}

// onCanvas places m at offset on a grey canvas of size w×h: a webcam frame with the
// citizen somewhere in it.
func onCanvas(m image.Image, w, h int, at image.Point) *image.YCbCr {
	c := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(c, c.Bounds(), image.NewUniform(color.Gray{90}), image.Point{}, draw.Src)
	draw.Draw(c, m.Bounds().Sub(m.Bounds().Min).Add(at), m, m.Bounds().Min, draw.Src)
	return toYCbCr(c)
}

func TestAnalyzeFindsTheFaceInAWebcamFrame(t *testing.T) {
	photo := facetest.SharedPhoto(t, "tzuyu/1.jpg") // 540×810, one frontal face
	frame := onCanvas(photo, 1280, 720, image.Pt(370, -40))
	a := mustAnalyzer(t, face.DefaultOptions())
	obs, err := a.Analyze(context.Background(), frame)
	if err != nil {
		t.Fatal(err)
	}
	if !obs.Box.In(frame.Bounds()) || obs.Box.Dx() < 80 {
		t.Fatalf("box %v not a face inside the frame", obs.Box)
	}
	for i, p := range obs.Landmarks {
		if !image.Pt(int(p.X), int(p.Y)).In(obs.Box.Inset(-obs.Box.Dx() / 4)) {
			t.Fatalf("landmark %d %v far outside the box %v", i, p, obs.Box)
		}
	}
	if !obs.Quality.OK() {
		t.Fatalf("a frontal, well-lit face failed the gate: %v (%+v)", obs.Quality.Failures, obs.Quality)
	}
}

// TestAnalyzeMapsCoordinatesBack detects on the frame at full size and at half size: the
// detection scale only moves where the crop is cut, so the landmarks must agree to within the
// landmark model's own error.
func TestAnalyzeMapsCoordinatesBack(t *testing.T) {
	photo := toYCbCr(facetest.SharedPhoto(t, "chaeyeon/2.jpg")) // 681×1024, large face
	full := face.DefaultOptions()
	full.DetectWidth = 1024
	half := face.DefaultOptions()
	half.DetectWidth = 400 // factor 2
	a, b := mustAnalyzer(t, full), mustAnalyzer(t, half)
	of, err := a.Analyze(context.Background(), photo)
	if err != nil {
		t.Fatal(err)
	}
	oh, err := b.Analyze(context.Background(), photo)
	if err != nil {
		t.Fatal(err)
	}
	iod := of.Quality.Pose.IOD
	for i := range of.Landmarks {
		d := math.Hypot(of.Landmarks[i].X-oh.Landmarks[i].X, of.Landmarks[i].Y-oh.Landmarks[i].Y)
		if d > 0.12*iod {
			t.Errorf("landmark %d: full %v vs downscaled %v (%.1f px, IOD %.0f)", i, of.Landmarks[i], oh.Landmarks[i], d, iod)
		}
	}
}

// A large face is described from a crop scaled down to about 120 px a side, a small one at
// the frame's own resolution. (Whether the descriptors stay good is the calibration's test,
// TestSlowConvertedModelFitsTheCalibration: the shared recognition model is a stand-in.)
func TestAnalyzeDescribesAtTheFacesSize(t *testing.T) {
	photo := facetest.SharedPhoto(t, "chaeyeon/2.jpg") // 681×1024, face box about 310 px
	a := mustAnalyzer(t, face.DefaultOptions())
	large, err := a.Analyze(context.Background(), onCanvas(photo, 1280, 1024, image.Pt(300, 0)))
	if err != nil {
		t.Fatal(err)
	}
	// The same photo at a third of its size in a VGA frame: a face box of about 100 px, found
	// without scaling the frame (HOG finds nothing under 80 px).
	small, err := a.Analyze(context.Background(), onCanvas(shrunk(photo, 3), 640, 480, image.Pt(200, 60)))
	if err != nil {
		t.Fatal(err)
	}
	if large.DescribeScale > 0.5 || small.DescribeScale != 1 {
		t.Fatalf("described at scales %.2f (large face) and %.2f (small face), want below 0.5 and 1", large.DescribeScale, small.DescribeScale)
	}
}

// shrunk is m scaled down by an integer factor (a box filter).
func shrunk(m image.Image, k int) image.Image {
	b := m.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()/k, b.Dy()/k))
	for y := range out.Rect.Dy() {
		for x := range out.Rect.Dx() {
			var r, g, bl uint32
			for dy := range k {
				for dx := range k {
					cr, cg, cb, _ := m.At(b.Min.X+x*k+dx, b.Min.Y+y*k+dy).RGBA()
					r, g, bl = r+cr>>8, g+cg>>8, bl+cb>>8
				}
			}
			n := uint32(k * k)
			out.Set(x, y, color.RGBA{uint8(r / n), uint8(g / n), uint8(bl / n), 255})
		}
	}
	return out
}

func TestAnalyzeFaceCountHints(t *testing.T) {
	blank := onCanvas(image.NewUniform(color.Gray{120}), 640, 480, image.Point{})
	one := facetest.SharedPhoto(t, "tzuyu/1.jpg")
	two := image.NewRGBA(image.Rect(0, 0, 1080, 810))
	draw.Draw(two, one.Bounds(), one, image.Point{}, draw.Src)
	draw.Draw(two, one.Bounds().Add(image.Pt(540, 0)), one, image.Point{}, draw.Src)
	for _, tc := range []struct {
		name  string
		frame image.Image
		want  quality.Hint
	}{
		{"NobodyThere", blank, quality.HintNoFace},
		{"TwoPeople", toYCbCr(two), quality.HintSeveralFaces},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := face.DefaultOptions()
			opt.DetectWidth = 1080
			_, err := mustAnalyzer(t, opt).Analyze(context.Background(), tc.frame)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			var h quality.Hint
			if !errors.As(err, &h) || h.ID == "" || h.EN == "" {
				t.Fatalf("hint not bilingual: %#v", h)
			}
		})
	}
}

func TestAnalyzeIsDeterministic(t *testing.T) {
	frame := toYCbCr(facetest.SharedPhoto(t, "luda/1.jpg"))
	a := mustAnalyzer(t, face.DefaultOptions())
	o1, err := a.Analyze(context.Background(), frame)
	if err != nil {
		t.Fatal(err)
	}
	o2, err := a.Analyze(context.Background(), frame)
	if err != nil {
		t.Fatal(err)
	}
	if o1.Descriptor != o2.Descriptor || o1.Landmarks != o2.Landmarks || o1.Box != o2.Box {
		t.Fatal("the same frame gave different results")
	}
}

func TestAnalyzeConcurrentCalls(t *testing.T) {
	frames := []*image.YCbCr{
		toYCbCr(facetest.SharedPhoto(t, "luda/1.jpg")),
		toYCbCr(facetest.SharedPhoto(t, "nayoung/1.jpg")),
	}
	a := mustAnalyzer(t, face.DefaultOptions())
	want := make([]face.Descriptor, len(frames))
	for i, f := range frames {
		o, err := a.Analyze(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = o.Descriptor
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 2 {
				i := (g + k) % len(frames)
				o, err := a.Analyze(context.Background(), frames[i])
				if err != nil {
					errs <- err
					return
				}
				if o.Descriptor != want[i] {
					errs <- errors.New("concurrent call gave a different descriptor")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestAnalyzeAfterCloseIsAnError(t *testing.T) {
	e, err := Load(facetest.SharedModels(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := face.NewAnalyzer(e, face.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	e.Close() // twice is fine
	if _, err := a.Analyze(context.Background(), toYCbCr(facetest.SharedPhoto(t, "luda/1.jpg"))); !errors.Is(err, face.ErrClosed) {
		t.Fatalf("err %v, want ErrClosed", err)
	}
}

func TestSlowAnalyzeWithCNNDetector(t *testing.T) {
	slowtest.Skip(t, "the CNN detector takes seconds per image on a CPU")
	opt := face.DefaultOptions()
	opt.Detector = face.CNN
	opt.DetectWidth = 320 // the CNN finds faces HOG misses at this size; keeps the test short
	photo := toYCbCr(facetest.SharedPhoto(t, "tzuyu/1.jpg"))
	obs, err := mustAnalyzer(t, opt).Analyze(context.Background(), photo)
	if err != nil {
		t.Fatal(err)
	}
	if !obs.Box.Overlaps(image.Rect(194, 128, 344, 277)) { // where HOG finds it at full size
		t.Fatalf("CNN box %v is not on the face", obs.Box)
	}
}
