package dlib

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/internal/shareddata"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/liveness"
	"github.com/ikd-field/ikd/kiosk/face/match"
)

func left() (liveness.Direction, error) { return liveness.Left, nil }

func mustVerifier(t *testing.T, model kiosk.ModelClass) *face.Verifier {
	t.Helper()
	cal, err := match.Default()
	if err != nil {
		t.Fatal(err)
	}
	v, err := face.NewVerifier(cal, cal.Thresholds, model, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var liveResident = kiosk.Resident{NIK: "3201014101900001", Status: kiosk.ResidentActive,
	References: []kiosk.Descriptor{{0.1, 0.2}}}

// A photo held still in front of the camera: every replayed frame is the same picture, so the
// capture fails as a replay with the officer's message, before any score is computed.
func TestLiveVerifierRefusesAStillPhoto(t *testing.T) {
	b, err := os.ReadFile(shareddata.Require(t, "testdata", "faces", "tzuyu", "1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "frame.jpg"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	frames, err := camera.OpenReplay(dir, camera.ReplayOptions{FPS: 30})
	if err != nil {
		t.Fatal(err)
	}
	defer frames.Close()
	var prompts int
	lv := &face.LiveVerifier{Analyzer: mustAnalyzer(t, face.DefaultOptions()), Frames: frames,
		Verifier: mustVerifier(t, kiosk.ModelStandIn), Capture: fastCaptureConfig(), Direction: left,
		OnProgress: func(face.Progress) { prompts++ }}
	_, err = lv.VerifyFace(context.Background(), liveResident)
	if !errors.Is(err, face.ErrLivenessFrozen) || !errors.Is(err, liveness.ErrFrozen) {
		t.Fatalf("VerifyFace on a still photo: %v, want face.ErrLivenessFrozen", err)
	}
	if prompts == 0 {
		t.Fatal("no progress was reported to the UI")
	}
	if msg := kiosk.OfficerMessage(err, kiosk.LangID); msg != face.ErrLivenessFrozen.Msg.ID {
		t.Fatalf("officer message %q", msg)
	}
}
