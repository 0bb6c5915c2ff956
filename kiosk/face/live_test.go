package face

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ikd-field/ikd/internal/shareddata"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face/liveness"
	"github.com/ikd-field/ikd/kiosk/face/match"
)

func left() (liveness.Direction, error) { return liveness.Left, nil }

func mustVerifier(t *testing.T, kind ModelKind) *Verifier {
	t.Helper()
	cal, err := match.Default()
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(cal, cal.Thresholds, ModelSet{Files: []ModelInfo{{File: RecognitionFile, Kind: kind}}})
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
	lv := &LiveVerifier{Analyzer: mustAnalyzer(t, DefaultOptions()), Frames: frames,
		Verifier: mustVerifier(t, KindStandIn), Capture: fastCaptureConfig(), Direction: left,
		OnProgress: func(Progress) { prompts++ }}
	_, err = lv.VerifyFace(context.Background(), liveResident)
	if !errors.Is(err, ErrLivenessFrozen) || !errors.Is(err, liveness.ErrFrozen) {
		t.Fatalf("VerifyFace on a still photo: %v, want ErrLivenessFrozen", err)
	}
	if prompts == 0 {
		t.Fatal("no progress was reported to the UI")
	}
	if msg := kiosk.OfficerMessage(err, kiosk.LangID); msg != ErrLivenessFrozen.Msg.ID {
		t.Fatalf("officer message %q", msg)
	}
}

// Nobody in front of the camera: the capture ends at its deadline with the timeout message.
func TestLiveVerifierTimesOutWithoutAFace(t *testing.T) {
	frames, err := camera.NewSyntheticSource(camera.SceneOptions{Width: 640, Height: 480, Seed: 3}, 30)
	if err != nil {
		t.Fatal(err)
	}
	defer frames.Close()
	lv := &LiveVerifier{Analyzer: mustAnalyzer(t, DefaultOptions()), Frames: frames,
		Verifier: mustVerifier(t, KindStandIn), Capture: fastCaptureConfig(), Direction: left,
		Timeout: 400 * time.Millisecond}
	if _, err := lv.VerifyFace(context.Background(), liveResident); !errors.Is(err, ErrLivenessTimeout) {
		t.Fatalf("VerifyFace with no face: %v, want ErrLivenessTimeout", err)
	}
}

func TestLiveVerifierDecision(t *testing.T) {
	cal, err := match.Default()
	if err != nil {
		t.Fatal(err)
	}
	refs, err := match.SyntheticReferences(cal, 2, 7)
	if err != nil {
		t.Fatal(err)
	}
	self, other := refs[0].Descriptor, refs[1].Descriptor
	var stranger Descriptor // far from everyone: the opposite direction of self
	for i, x := range self {
		stranger[i] = -x
	}
	resident := kiosk.Resident{NIK: "3201014101900001", References: []kiosk.Descriptor{kiosk.Descriptor(self)}}
	// A second resident shares the live face: a duplicate record or an impostor's claim.
	index, err := match.NewIndex(cal, []match.Reference{
		{Key: "3201014101900001", Descriptor: self},
		{Key: "3174052508850123", Descriptor: self},
		{Key: "3201012508850123", Descriptor: other},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		kind   ModelKind
		live   []Descriptor
		band   kiosk.Band
		others []kiosk.NIK
	}{
		{"SameFacePublishedModel", KindPublished, []Descriptor{self}, kiosk.BandMatch, []kiosk.NIK{"3174052508850123"}},
		{"SameFaceStandInModelIsOnlyUncertain", KindStandIn, []Descriptor{self}, kiosk.BandUncertain, []kiosk.NIK{"3174052508850123"}},
		{"Stranger", KindPublished, []Descriptor{stranger}, kiosk.BandNoMatch, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lv := &LiveVerifier{Verifier: mustVerifier(t, tt.kind), Index: index, SearchLimit: cal.Thresholds.Match}
			res, err := lv.decide(tt.live, resident)
			if err != nil {
				t.Fatal(err)
			}
			if res.Band != tt.band || !slices.Equal(res.OtherNIKs, tt.others) {
				t.Fatalf("band %s others %v, want %s %v (score %.3f)", res.Band, res.OtherNIKs, tt.band, tt.others, res.Score)
			}
		})
	}
}
