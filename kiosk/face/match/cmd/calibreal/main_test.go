package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ikd-field/ikd/internal/shareddata"
	"github.com/ikd-field/ikd/internal/slowtest"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face/match"
)

// realModels returns $IKD_MODELS, else models-real beside the shared folder, or skips.
func realModels(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("IKD_MODELS")
	if dir == "" {
		shared, err := shareddata.Dir()
		if err != nil {
			t.Skipf("no IKD_MODELS and no shared folder: %v", err)
		}
		dir = filepath.Join(shared, "..", "models-real")
	}
	if _, err := os.Stat(filepath.Join(dir, "dlib_face_recognition_resnet_model_v1.dat")); err != nil {
		t.Skipf("no recognition model in %s (run build/models.sh and set IKD_MODELS): %v", dir, err)
	}
	return dir
}

func TestDecideReal(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    pair
		r    rule
		want kiosk.Band
	}{
		{"MatchWithinGuard", pair{raw: 0.3, score: 0.1}, rule{th: guarded()}, kiosk.BandMatch},
		{"MatchBeyondGuardIsUncertain", pair{raw: 0.7, score: 0.1}, rule{th: guarded()}, kiosk.BandUncertain},
		{"NoGuard", pair{raw: 0.7, score: 0.1}, rule{th: kiosk.FaceThresholds{Match: guarded().Match, NoMatch: guarded().NoMatch}}, kiosk.BandMatch},
		{"NoMatchUntouched", pair{raw: 0.9, score: 0.7}, rule{th: guarded()}, kiosk.BandNoMatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.decide(tc.p); got != tc.want {
				t.Fatalf("band %s, want %s", got, tc.want)
			}
		})
	}
}

func guarded() kiosk.FaceThresholds {
	return kiosk.FaceThresholds{Match: 0.25, NoMatch: 0.55, MatchMaxDistance: 0.45}
}

// TestSlowRealPipeline runs the photo sets through the converted model: with the shipped
// converted-model thresholds and guard no impostor pair matches, on the calibration's
// population (shared photos) or beyond it (Debian's johns).
func TestSlowRealPipeline(t *testing.T) {
	slowtest.Skip(t, "recognises about 100 photos (about 20 s)")
	dir := realModels(t)
	c, err := match.Default()
	if err != nil {
		t.Fatal(err)
	}
	shared, err := shareddata.Dir()
	if err != nil {
		t.Fatal(err)
	}
	sets := []photoSet{
		{name: "shared photos", root: filepath.Join(shared, "testdata", "faces"), labelled: true},
		{name: "Debian johns", root: filepath.Join(debianExamples, "johns"), labelled: true, pad: true},
	}
	samples, err := describe(dir, sets, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	conv := rule{"converted", c.ThresholdsFor(kiosk.ModelConverted)}
	shippedDefault := rule{"shipped default", c.Thresholds}
	checked := 0
	for i, s := range sets {
		if len(samples[i]) == 0 {
			continue // describe said why
		}
		checked++
		ps, err := pairs(c, samples[i], s.labelled)
		if err != nil {
			t.Fatal(err)
		}
		n, d := conv.tally(ps), shippedDefault.tally(ps)
		t.Logf("%s: %d faces; converted rule: impostors matched %d/%d, genuine matched %d/%d; shipped default: impostors matched %d",
			s.name, len(samples[i]), n[0][0], n[0][0]+n[0][1]+n[0][2], n[1][0], n[1][0]+n[1][1]+n[1][2], d[0][0])
		if n[0][0] != 0 {
			t.Errorf("%s: %d impostor pairs match under the converted-model rule", s.name, n[0][0])
		}
		if s.name == "Debian johns" && float64(n[1][0]) < 0.9*float64(n[1][0]+n[1][1]+n[1][2]) {
			t.Errorf("johns: only %d of %d genuine pairs match", n[1][0], n[1][0]+n[1][1]+n[1][2])
		}
	}
	if checked == 0 {
		t.Skip("no photo set found: set IKD_SHARED or install libdlib19.1's examples")
	}
}
