package face

import (
	"context"
	"errors"
	"image"
	"math"
	"testing"

	"github.com/ikd-field/ikd/kiosk/face/quality"
)

func mustAnalyzer(t *testing.T, rec Recognizer, opt Options) *Analyzer {
	t.Helper()
	a, err := NewAnalyzer(rec, opt)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// oneFace is a recognizer that sees f (frame pixels) in every frame of size frame.
func oneFace(frame image.Rectangle, f RawFace) *fakeRecognizer {
	return &fakeRecognizer{frame: frame, scene: func() ([]RawFace, error) { return []RawFace{f}, nil }}
}

// A 1280×720 frame is detected at 640×360 and the face described once, from a crop of the
// frame around it: at the frame's own resolution when the face is small, scaled down to
// describeSide when it is large. The landmarks come back in frame pixels, and a 68-point
// model gives the same landmarks and pose as a 5-point one.
func TestAnalyzeDetectsThenDescribesOnce(t *testing.T) {
	frame := texturedFrame(1280, 720)
	for _, tc := range []struct {
		name      string
		points    int
		iod       float64
		wantScale float64
	}{
		{"Large5Points", 5, 120, describeSide / 300.0}, // synthFace's box is 2.5 IOD high
		{"Large68Points", 68, 120, describeSide / 300.0},
		{"Small5Points", 5, 40, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := synthFace(tc.points, quality.Point{X: 640, Y: 340}, tc.iod, 10, descriptor(0.1, 1))
			rec := oneFace(frame.Rect, f)
			detections := 0
			var described []image.Point
			sharp := descriptor(0.2, 2)
			rec.crop = func(img *image.YCbCr, faces []RawFace) []RawFace {
				described = append(described, img.Rect.Size())
				faces[0].Descriptor = sharp
				return faces
			}
			scene := rec.scene
			rec.scene = func() ([]RawFace, error) {
				detections++
				return scene()
			}
			obs, err := mustAnalyzer(t, rec, DefaultOptions()).Analyze(context.Background(), frame)
			if err != nil {
				t.Fatal(err)
			}
			if detections != 1 || len(described) != 1 || obs.Descriptor != sharp {
				t.Fatalf("%d detections, crops %v: want one of each, the descriptor from the crop", detections, described)
			}
			if math.Abs(obs.DescribeScale-tc.wantScale) > 0.01 {
				t.Fatalf("described at scale %.3f, want %.3f", obs.DescribeScale, tc.wantScale)
			}
			if d := obs.Box.Min.Sub(f.Rect.Min); max(abs(d.X), abs(d.Y)) > 2 || abs(obs.Box.Dx()-f.Rect.Dx()) > 4 {
				t.Fatalf("observation box %v, want about %v", obs.Box, f.Rect)
			}
			p := obs.Quality.Pose
			iod := tc.iod * math.Cos(10*math.Pi/180)
			// The landmark model gives whole pixels of the crop: 2.5 frame pixels at scale 0.4.
			if math.Abs(p.IOD-iod) > 3 || math.Abs(p.Yaw-10) > 3 || math.Abs(p.Roll) > 2 ||
				math.Abs(p.EyeCentre.X-640) > 3 || math.Abs(p.EyeCentre.Y-340) > 3 {
				t.Fatalf("pose %+v, want IOD about %.0f, yaw 10, roll 0, eyes at (640, 340)", p, iod)
			}
		})
	}
}

func abs(v int) int { return max(v, -v) }

// HOG misses the odd face in the scaled crop: the analyzer describes it at the frame's own
// resolution instead, missed there too from the detection image, and missed everywhere it is
// no face.
func TestAnalyzeCropMisses(t *testing.T) {
	frame := texturedFrame(1280, 720)
	f := synthFace(5, quality.Point{X: 640, Y: 340}, 120, 0, descriptor(0.1, 1))
	for _, tc := range []struct {
		name      string
		found     int // the first view with the face: the scaled crop, the full one, the detection image
		wantScale float64
	}{
		{"MissedScaledFoundFull", 1, 1},
		{"MissedCropsFoundDetected", 2, 0.5},
		{"MissedEverywhere", 3, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := oneFace(frame.Rect, f)
			var views int
			rec.crop = func(_ *image.YCbCr, faces []RawFace) []RawFace {
				views++
				if views <= tc.found {
					return nil
				}
				return faces
			}
			obs, err := mustAnalyzer(t, rec, DefaultOptions()).Analyze(context.Background(), frame)
			if tc.found == 3 {
				if !errors.Is(err, quality.HintNoFace) || views != 3 {
					t.Fatalf("err %v after %d views, want no face after 3", err, views)
				}
				return
			}
			if err != nil || views != tc.found+1 || obs.DescribeScale != tc.wantScale {
				t.Fatalf("err %v, %d views, scale %v: want the face from view %d at scale %v", err, views, obs.DescribeScale, tc.found+1, tc.wantScale)
			}
			if p := obs.Quality.Pose; math.Abs(p.EyeCentre.X-640) > 3 || math.Abs(p.EyeCentre.Y-340) > 3 {
				t.Fatalf("eyes at %+v, want (640, 340)", p.EyeCentre)
			}
		})
	}
}

// A second face reaching into the crop is not the one described.
func TestAnalyzeDescribesTheDetectedFace(t *testing.T) {
	frame := texturedFrame(1280, 720)
	f := synthFace(5, quality.Point{X: 640, Y: 340}, 40, 0, descriptor(0.1, 1))
	rec := oneFace(frame.Rect, f)
	rec.crop = func(img *image.YCbCr, faces []RawFace) []RawFace {
		other := faces[0]
		other.Rect = image.Rectangle{Max: image.Pt(10, 10)}
		other.Descriptor = descriptor(0.9, 3)
		return []RawFace{other, faces[0]}
	}
	obs, err := mustAnalyzer(t, rec, DefaultOptions()).Analyze(context.Background(), frame)
	if err != nil {
		t.Fatal(err)
	}
	if obs.Descriptor != f.Descriptor {
		t.Fatal("described the face at the crop's corner, not the one detected")
	}
}

func TestAnalyzeFaceCountAndShape(t *testing.T) {
	frame := texturedFrame(640, 480)
	f := synthFace(5, quality.Point{X: 320, Y: 200}, 100, 0, descriptor(0.1, 1))
	odd := f
	odd.Landmarks = f.Landmarks[:4]
	scene := func(faces []RawFace, err error) *fakeRecognizer {
		return &fakeRecognizer{frame: frame.Rect, scene: func() ([]RawFace, error) { return faces, err }}
	}
	for _, tc := range []struct {
		name string
		rec  Recognizer
		want error
	}{
		{"NobodyThere", scene(nil, nil), quality.HintNoFace},
		{"TwoPeople", scene([]RawFace{f, f}, nil), quality.HintSeveralFaces},
		{"FourPointModel", oneFace(frame.Rect, odd), quality.ErrShapeSize},
		{"EngineClosed", scene(nil, ErrClosed), ErrClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mustAnalyzer(t, tc.rec, DefaultOptions()).Analyze(context.Background(), frame)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

func TestAnalyzeRejectsBadInput(t *testing.T) {
	rec := oneFace(image.Rect(0, 0, 640, 480), synthFace(5, quality.Point{X: 320, Y: 200}, 100, 0, Descriptor{}))
	a := mustAnalyzer(t, rec, DefaultOptions())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Analyze(ctx, image.NewGray(image.Rect(0, 0, 640, 480))); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := a.Analyze(context.Background(), image.NewGray(image.Rect(0, 0, 10, 10))); err == nil {
		t.Error("10×10 frame accepted")
	}
	if _, err := NewAnalyzer(nil, DefaultOptions()); err == nil {
		t.Error("nil recognizer accepted")
	}
	for name, opt := range map[string]func(*Options){
		"TinyDetectWidth": func(o *Options) { o.DetectWidth = 10 },
		"BadQuality":      func(o *Options) { o.Quality.MaxIOD = 0 },
	} {
		t.Run(name, func(t *testing.T) {
			o := DefaultOptions()
			opt(&o)
			if _, err := NewAnalyzer(rec, o); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
