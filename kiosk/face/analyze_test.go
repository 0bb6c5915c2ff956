package face

import (
	"context"
	"errors"
	"fmt"
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

// oneFace is a recognizer that sees f in every image.
func oneFace(f RawFace) *fakeRecognizer {
	return &fakeRecognizer{recognize: func(context.Context, *image.YCbCr, Detector) ([]RawFace, error) {
		return []RawFace{f}, nil
	}}
}

// A 1280×720 frame is detected at 640×360; the landmarks come back in frame pixels, and a
// 68-point model gives the same landmarks and pose as a 5-point one.
func TestAnalyzeMapsDetectionCoordinatesBack(t *testing.T) {
	frame := texturedFrame(1280, 720)
	for _, points := range []int{5, 68} {
		t.Run(fmt.Sprintf("%dPoints", points), func(t *testing.T) {
			f := synthFace(points, quality.Point{X: 320, Y: 170}, 60, 10, descriptor(0.1, 1))
			var sizes []image.Point
			rec := &fakeRecognizer{recognize: func(_ context.Context, img *image.YCbCr, _ Detector) ([]RawFace, error) {
				sizes = append(sizes, img.Rect.Size())
				return []RawFace{f}, nil
			}}
			obs, err := mustAnalyzer(t, rec, DefaultOptions()).Analyze(context.Background(), frame)
			if err != nil {
				t.Fatal(err)
			}
			if len(sizes) != 1 || sizes[0] != image.Pt(640, 360) {
				t.Fatalf("recognizer saw %v, want one 640×360 image", sizes)
			}
			if obs.Box != image.Rect(520, 220, 760, 520) || obs.Refined || obs.Descriptor != f.Descriptor {
				t.Fatalf("observation box %v refined %v", obs.Box, obs.Refined)
			}
			p := obs.Quality.Pose
			if math.Abs(p.IOD-2*60*math.Cos(10*math.Pi/180)) > 3 || math.Abs(p.Yaw-10) > 2 || math.Abs(p.Roll) > 2 {
				t.Fatalf("pose %+v, want IOD about 118, yaw 10, roll 0", p)
			}
		})
	}
}

// A face small in the detection image is described again from a full-resolution crop.
func TestAnalyzeRefinesSmallFaces(t *testing.T) {
	frame := texturedFrame(1280, 720)
	small := synthFace(68, quality.Point{X: 320, Y: 170}, 40, 0, descriptor(0.1, 1))
	sharp := descriptor(0.2, 2)
	var crops []image.Rectangle
	rec := &fakeRecognizer{recognize: func(_ context.Context, img *image.YCbCr, _ Detector) ([]RawFace, error) {
		if img.Rect.Dx() == 640 {
			return []RawFace{small}, nil
		}
		crops = append(crops, img.Rect)
		// The same face at full resolution, in the crop's own pixels.
		c := quality.Point{X: 640 - float64(img.Rect.Min.X), Y: 340 - float64(img.Rect.Min.Y)}
		return []RawFace{synthFace(68, c, 80, 0, sharp)}, nil
	}}
	obs, err := mustAnalyzer(t, rec, DefaultOptions()).Analyze(context.Background(), frame)
	if err != nil {
		t.Fatal(err)
	}
	if len(crops) != 1 || !obs.Refined || obs.Descriptor != sharp {
		t.Fatalf("crops %v refined %v", crops, obs.Refined)
	}
	if p := obs.Quality.Pose; math.Abs(p.EyeCentre.X-640) > 2 || math.Abs(p.EyeCentre.Y-340) > 2 || math.Abs(p.IOD-80) > 2 {
		t.Fatalf("refined pose %+v, want eyes at (640, 340), IOD 80", p)
	}
}

func TestAnalyzeFaceCountAndShape(t *testing.T) {
	frame := texturedFrame(640, 480)
	f := synthFace(5, quality.Point{X: 320, Y: 200}, 100, 0, descriptor(0.1, 1))
	odd := f
	odd.Landmarks = f.Landmarks[:4]
	closed := &fakeRecognizer{recognize: func(context.Context, *image.YCbCr, Detector) ([]RawFace, error) { return nil, ErrClosed }}
	for _, tc := range []struct {
		name string
		rec  Recognizer
		want error
	}{
		{"NobodyThere", &fakeRecognizer{recognize: func(context.Context, *image.YCbCr, Detector) ([]RawFace, error) { return nil, nil }}, quality.HintNoFace},
		{"TwoPeople", &fakeRecognizer{recognize: func(context.Context, *image.YCbCr, Detector) ([]RawFace, error) { return []RawFace{f, f}, nil }}, quality.HintSeveralFaces},
		{"FourPointModel", oneFace(odd), quality.ErrShapeSize},
		{"EngineClosed", closed, ErrClosed},
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
	rec := oneFace(synthFace(5, quality.Point{X: 320, Y: 200}, 100, 0, Descriptor{}))
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
