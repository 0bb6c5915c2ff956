package face

import (
	"context"
	"fmt"
	"image"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk/face/liveness"
	"github.com/ikd-field/ikd/kiosk/face/quality"
)

// scripted is a recognizer that sees faces[i] (frame pixels) in the i-th frame of size frame.
func scripted(frame image.Rectangle, faces []RawFace) *fakeRecognizer {
	i := 0
	return &fakeRecognizer{frame: frame, scene: func() ([]RawFace, error) {
		f := faces[min(i, len(faces)-1)]
		i++
		return []RawFace{f}, nil
	}}
}

// TestCaptureHeadTurn runs the whole challenge (frontal, turn to the citizen's own left,
// frontal again) on the landmarks of a 5-point and of a 68-point model: the pose and the
// liveness state machine must read both the same way.
func TestCaptureHeadTurn(t *testing.T) {
	centre := quality.Point{X: 320, Y: 200}
	for _, points := range []int{5, 68} {
		t.Run(fmt.Sprintf("%dPoints", points), func(t *testing.T) {
			var faces []RawFace
			for i, yaw := range []float64{0, 2, -1, 15, 30, 35, 20, 5, 0, 1} {
				faces = append(faces, synthFace(points, centre, 100, yaw, descriptor(0.1, uint64(i))))
			}
			frame := texturedFrame(640, 480)
			c, err := NewCapture(mustAnalyzer(t, scripted(frame.Rect, faces), DefaultOptions()), DefaultCaptureConfig(), liveness.Left)
			if err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)
			var p Progress
			for i := range faces {
				if p, err = c.Step(context.Background(), frame, at.Add(time.Duration(i)*100*time.Millisecond)); err != nil {
					t.Fatal(err)
				}
			}
			if p.State != liveness.Passed {
				t.Fatalf("state %v (err %v, prompt %v)", p.State, c.Challenge().Err(), p.Prompt)
			}
			if peak := c.Challenge().PeakYaw(); peak < 30 {
				t.Fatalf("peak yaw %.1f, want about 35", peak)
			}
			got, err := c.Result()
			if err != nil || len(got) != 3 {
				t.Fatalf("%d descriptors (%v), want the best 3", len(got), err)
			}
		})
	}
}

func TestNewCaptureRejectsBadConfig(t *testing.T) {
	a := mustAnalyzer(t, scripted(image.Rect(0, 0, 640, 480), []RawFace{{}}), DefaultOptions())
	cfg := DefaultCaptureConfig()
	cfg.BestN = 0
	if _, err := NewCapture(a, cfg, liveness.Left); err == nil {
		t.Error("best-N 0 accepted")
	}
	cfg = DefaultCaptureConfig()
	cfg.BestN = 7
	if _, err := NewCapture(a, cfg, liveness.Left); err == nil {
		t.Error("best-N beyond the frontal frames accepted")
	}
}
