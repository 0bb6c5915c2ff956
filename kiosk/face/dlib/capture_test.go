package dlib

import (
	"context"
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/facetest"
	"github.com/ikd-field/ikd/kiosk/face/liveness"
)

// withNoise returns a copy of m with sensor-like noise of ±amp on the luma plane, shifted
// right by dx pixels: what consecutive webcam frames of a still scene look like.
func withNoise(m *image.YCbCr, seed uint64, amp, dx int) *image.YCbCr {
	r := rand.New(rand.NewPCG(seed, 3))
	out := adjust(m, func(v float64) float64 { return v })
	w, h := m.Rect.Dx(), m.Rect.Dy()
	for y := range h {
		for x := w - 1; x >= 0; x-- {
			v := int(m.Y[y*m.YStride+max(0, x-dx)]) + r.IntN(2*amp+1) - amp
			out.Y[y*out.YStride+x] = uint8(max(0, min(255, v)))
		}
	}
	return out
}

// tilted renders m as a flat photo turned by deg about its vertical centre line, seen by a
// pinhole camera at twice the photo's width: a printed photo waved in front of the camera.
func tilted(m *image.YCbCr, deg float64) *image.YCbCr {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	neutralChroma(out)
	d := 2 * float64(w)
	c, s := math.Cos(deg*math.Pi/180), math.Sin(deg*math.Pi/180)
	for y := range h {
		for x := range w {
			px, py := float64(x)-float64(w)/2, float64(y)-float64(h)/2
			u := px * d / (d*c - px*s)
			v := py * (d + u*s) / d
			sx, sy := int(u+float64(w)/2), int(v+float64(h)/2)
			if sx < 0 || sy < 0 || sx >= w || sy >= h {
				out.Y[y*out.YStride+x] = 90
				continue
			}
			out.Y[y*out.YStride+x] = m.Y[m.YOffset(sx+m.Rect.Min.X, sy+m.Rect.Min.Y)]
			ci := out.COffset(x, y)
			mi := m.COffset(sx+m.Rect.Min.X, sy+m.Rect.Min.Y)
			out.Cb[ci], out.Cr[ci] = m.Cb[mi], m.Cr[mi]
		}
	}
	return out
}

func fastCaptureConfig() face.CaptureConfig {
	cfg := face.DefaultCaptureConfig()
	cfg.Liveness.Timeout = 2 * time.Second
	return cfg
}

func mustCapture(t *testing.T, dir liveness.Direction) *face.Capture {
	t.Helper()
	c, err := face.NewCapture(mustAnalyzer(t, face.DefaultOptions()), fastCaptureConfig(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCaptureStillPhotoFails holds a printed photo up to the camera and moves it: shifted,
// noisy, and turned up to ±35° about its vertical axis. A flat picture turned that way
// moves the eyes and the nose together, so the landmark yaw stays near the photo's own
// pose and the challenge times out in either direction. This shows that planar motion of a
// photo does not fake a head turn under a pinhole model; it does not show resistance to a
// bent photo or a video of a turning head.
func TestCaptureStillPhotoFails(t *testing.T) {
	photo := toYCbCr(facetest.SharedPhoto(t, "tzuyu/1.jpg"))
	tilts := []float64{0, 0, 0, 10, 20, 35, 20, 0, -10, -20, -35, -20, 0, 5, 15, 30, 15, 0, -15, -30, -15, 0, 0, 0}
	for _, dir := range []liveness.Direction{liveness.Left, liveness.Right} {
		t.Run(dir.String(), func(t *testing.T) {
			c := mustCapture(t, dir)
			at := time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)
			maxYaw := 0.0
			for i, deg := range tilts {
				frame := withNoise(tilted(photo, deg), uint64(i), 3, i%3)
				p, err := c.Step(context.Background(), frame, at.Add(time.Duration(i)*100*time.Millisecond))
				if err != nil {
					t.Fatal(err)
				}
				if p.Obs != nil {
					maxYaw = math.Max(maxYaw, math.Abs(p.Obs.Quality.Pose.Yaw))
				}
				if p.State == liveness.Passed {
					t.Fatalf("a moved photo passed the %s challenge at frame %d", dir, i)
				}
			}
			if s := c.Challenge().State(); s != liveness.Failed || !errors.Is(c.Challenge().Err(), liveness.ErrTimeout) {
				t.Fatalf("state %v err %v, want a timeout", s, c.Challenge().Err())
			}
			if _, err := c.Result(); err == nil {
				t.Fatal("a failed capture gave a result")
			}
			t.Logf("largest landmark yaw while the photo turned up to 35°: %.1f°", maxYaw)
		})
	}
}

// TestCaptureRepeatedStillFails feeds the same frame twice, as an injected image would be.
func TestCaptureRepeatedStillFails(t *testing.T) {
	frame := toYCbCr(facetest.SharedPhoto(t, "tzuyu/1.jpg"))
	c := mustCapture(t, liveness.Left)
	at := time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)
	for i := range 2 {
		if _, err := c.Step(context.Background(), frame, at.Add(time.Duration(i)*66*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if !errors.Is(c.Challenge().Err(), liveness.ErrFrozen) {
		t.Fatalf("state %v err %v, want frozen", c.Challenge().State(), c.Challenge().Err())
	}
}

// TestCaptureRunsTheChallengeOnRealLandmarks plays frontal frames of one photo (with sensor
// noise), then a photo of a head turned to its own right, then the frontal photo again. The
// turned photo is of another person: the sequence exercises the pipeline's wiring (real
// landmarks and yaw, quality, consistency of the frontal frames, best-N selection) and
// proves nothing about liveness itself.
func TestCaptureRunsTheChallengeOnRealLandmarks(t *testing.T) {
	frontal := toYCbCr(facetest.SharedPhoto(t, "tzuyu/1.jpg"))
	turned := toYCbCr(facetest.SharedPhoto(t, "eunseo/2.jpg")) // yaw about −40°
	frames := []*image.YCbCr{}
	for i := range 3 {
		frames = append(frames, withNoise(frontal, uint64(i), 2, i))
	}
	frames = append(frames, turned)
	for i := range 3 {
		frames = append(frames, withNoise(frontal, uint64(10+i), 2, i))
	}
	c := mustCapture(t, liveness.Right)
	at := time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)
	var p face.Progress
	for i, f := range frames {
		var err error
		p, err = c.Step(context.Background(), f, at.Add(time.Duration(i)*100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
	}
	if p.State != liveness.Passed {
		t.Fatalf("state %v (err %v, prompt %v)", p.State, c.Challenge().Err(), p.Prompt)
	}
	got, err := c.Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d descriptors, want the best 3", len(got))
	}
	best := c.Best()
	for i := 1; i < len(best); i++ {
		if best[i].Quality.Score > best[i-1].Quality.Score {
			t.Fatal("best frames not ordered by quality score")
		}
	}
	if c.Challenge().Consistency() > fastCaptureConfig().Liveness.MaxRelDistance {
		t.Fatalf("consistency %v", c.Challenge().Consistency())
	}
}

func TestCaptureWrongTurnFails(t *testing.T) {
	frontal := toYCbCr(facetest.SharedPhoto(t, "tzuyu/1.jpg"))
	turned := toYCbCr(facetest.SharedPhoto(t, "eunseo/2.jpg")) // turned to its own right
	c := mustCapture(t, liveness.Left)
	at := time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)
	for i := range 3 {
		if _, err := c.Step(context.Background(), withNoise(frontal, uint64(i), 2, 0), at.Add(time.Duration(i)*100*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	p, err := c.Step(context.Background(), turned, at.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if p.State != liveness.Failed || !errors.Is(c.Challenge().Err(), liveness.ErrWrongTurn) {
		t.Fatalf("state %v err %v", p.State, c.Challenge().Err())
	}
	if p.Prompt != liveness.PromptFailed {
		t.Fatalf("prompt %v", p.Prompt)
	}
}
