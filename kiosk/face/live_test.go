package face

import (
	"context"
	"errors"
	"image"
	"testing"
	"time"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face/liveness"
	"github.com/ikd-field/ikd/kiosk/face/quality"
)

func left() (liveness.Direction, error) { return liveness.Left, nil }

var liveResident = kiosk.Resident{NIK: "3201014101900001", Status: kiosk.ResidentActive,
	References: []kiosk.Descriptor{{0.1, 0.2}}}

// Nobody in front of the camera until the capture's deadline: the officer sees the timeout
// message. The deadline has passed before the first frame, so no clock is involved.
func TestLiveVerifierTimesOut(t *testing.T) {
	frames := &fakeSource{next: func(ctx context.Context) (camera.Frame, error) {
		<-ctx.Done()
		return camera.Frame{}, ctx.Err()
	}}
	v, err := NewVerifier(&fakeScorer{}, kiosk.FaceThresholds{Match: 0.3, NoMatch: 0.5}, kiosk.ModelPublished, nil)
	if err != nil {
		t.Fatal(err)
	}
	lv := &LiveVerifier{Analyzer: mustAnalyzer(t, scripted(image.Rect(0, 0, 640, 480), []RawFace{{}}), DefaultOptions()), Frames: frames,
		Verifier: v, Capture: DefaultCaptureConfig(), Direction: left, Timeout: time.Nanosecond}
	if _, err := lv.VerifyFace(context.Background(), liveResident); !errors.Is(err, ErrLivenessTimeout) {
		t.Fatalf("VerifyFace with no face: %v, want ErrLivenessTimeout", err)
	}
}

// A whole counter check on fake frames: the capture passes the challenge and the verdict is
// the one kiosk.DecideFace gives for the scorer's score and the model class.
func TestLiveVerifierDecides(t *testing.T) {
	centre := quality.Point{X: 320, Y: 200}
	var faces []RawFace
	for i, yaw := range []float64{0, 1, 0, 35, 0, 1, 0} {
		faces = append(faces, synthFace(68, centre, 100, yaw, descriptor(0.1, uint64(i))))
	}
	for _, tc := range []struct {
		name  string
		model kiosk.ModelClass
		want  kiosk.Band
	}{
		{"ConvertedModelMatches", kiosk.ModelConverted, kiosk.BandMatch},
		{"StandInIsCapped", kiosk.ModelStandIn, kiosk.BandUncertain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frame := texturedFrame(640, 480)
			var seq uint64
			at := time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)
			frames := &fakeSource{next: func(context.Context) (camera.Frame, error) {
				seq++
				return camera.Frame{Image: frame, Seq: seq, Captured: at.Add(time.Duration(seq) * 100 * time.Millisecond)}, nil
			}}
			scorer := &fakeScorer{score: 0.1}
			v, err := NewVerifier(scorer, kiosk.FaceThresholds{Match: 0.3, NoMatch: 0.5}, tc.model, nil)
			if err != nil {
				t.Fatal(err)
			}
			var prompts int
			lv := &LiveVerifier{Analyzer: mustAnalyzer(t, scripted(frame.Rect, faces), DefaultOptions()), Frames: frames,
				Verifier: v, Capture: DefaultCaptureConfig(), Direction: left, OnProgress: func(Progress) { prompts++ }}
			res, err := lv.VerifyFace(context.Background(), liveResident)
			if err != nil {
				t.Fatal(err)
			}
			if res.Band != tc.want || scorer.live != 3 || scorer.ref != 1 || prompts != len(faces) {
				t.Fatalf("band %s (scorer saw %d live, %d refs; %d prompts)", res.Band, scorer.live, scorer.ref, prompts)
			}
		})
	}
}
