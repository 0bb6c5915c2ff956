package main

import (
	"bytes"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	goface "github.com/Kagami/go-face"

	"github.com/ikd-field/ikd/internal/shareddata"
	"github.com/ikd-field/ikd/kiosk/face/liveness/pad"
	"github.com/ikd-field/ikd/kiosk/face/opencvdnn"
)

func TestRunNeedsTheModel(t *testing.T) {
	tests := map[string][]string{
		"no model":    {"-models", t.TempDir()},
		"no variants": {"-model", "x.onnx", "-models", t.TempDir(), "-variants", "0"},
		"bad flag":    {"-nope"},
		"box scale":   {"-model", "x.onnx", "-models", t.TempDir(), "-box-scale", "3"},
	}
	for name, args := range tests {
		var out, errOut bytes.Buffer
		if err := run(args, &out, &errOut); err == nil {
			t.Errorf("%s: run(%q) succeeded", name, args)
		}
	}
}

// TestModelScoresAFrameOfEachKind runs the real model on one shared photo's frames. It needs
// fr_liveness.onnx in IKD_LIVENESS_MODEL (see the package comment), the dlib models in
// IKD_MODELS and the shared photos.
func TestModelScoresAFrameOfEachKind(t *testing.T) {
	model := os.Getenv("IKD_LIVENESS_MODEL")
	if model == "" {
		t.Skip("IKD_LIVENESS_MODEL not set: fr_liveness.onnx is not part of the product (see the package comment to get it)")
	}
	models := os.Getenv("IKD_MODELS")
	if models == "" {
		t.Skip("IKD_MODELS not set: go-face's detector is needed")
	}
	shared, err := shareddata.Dir()
	if err != nil {
		t.Fatal(err)
	}
	photo := filepath.Join(shared, "testdata", "faces", "bona", "1.jpg")
	if _, err := os.Stat(photo); err != nil {
		t.Skipf("shared photos absent (%v): set IKD_SHARED", err)
	}
	if sum, err := fileSHA256(model); err != nil || sum != modelSHA256 {
		t.Fatalf("%s: sha256 %s (%v), want %s", model, sum, err, modelSHA256)
	}
	net, err := opencvdnn.Load(model, 3, pad.InputSize, pad.InputSize, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	if net.OutLen() != 3 {
		t.Fatalf("%d outputs, want 3 logits", net.OutLen())
	}
	rec, err := goface.NewRecognizer(models)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	src, box, err := loadPhoto(rec, photo)
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]float64{}
	for ki, kind := range kinds {
		rng := rand.New(rand.NewPCG(1, uint64(ki)))
		f := map[string]func() *rgbf{
			"bona fide":    func() *rgbf { return bonaFide(src, box) },
			"phone screen": func() *rgbf { return phoneAttack(src, box, rng) },
			"print":        func() *rgbf { return printAttack(src, box, rng) },
		}[kind]()
		frame, err := webcam(f, rng)
		if err != nil {
			t.Fatal(err)
		}
		r, err := score(rec, net, frame, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !r.detected {
			t.Fatalf("%s: no face found in the frame", kind)
		}
		sum := 0.0
		for _, p := range r.probs {
			sum += p
		}
		if math.Abs(sum-1) > 1e-6 {
			t.Errorf("%s: probabilities %v sum to %g", kind, r.probs, sum)
		}
		live[kind] = r.probs[0]
	}
	t.Logf("score[0]: %v", live)
	// The one contrast this photo shows clearly (see BENCHMARKS.md): its print scores far
	// below the webcam frame.
	if !(live["print"] < live["bona fide"]) {
		t.Errorf("print scores %g, not below the bona fide frame's %g", live["print"], live["bona fide"])
	}
}

func TestWiden(t *testing.T) {
	for _, tt := range []struct {
		b    image.Rectangle
		s    float64
		want image.Rectangle
	}{
		{image.Rect(100, 100, 200, 200), 1, image.Rect(100, 100, 200, 200)},
		{image.Rect(100, 100, 200, 200), 1.2, image.Rect(90, 90, 210, 210)},
		{image.Rect(0, 0, 80, 100), 0.5, image.Rect(20, 25, 60, 75)},
	} {
		if got := widen(tt.b, tt.s); got != tt.want {
			t.Errorf("widen(%v, %g) = %v, want %v", tt.b, tt.s, got, tt.want)
		}
	}
}

func TestReportNeedsBonaFide(t *testing.T) {
	var out bytes.Buffer
	err := report(&out, []result{{kind: "print", detected: true, probs: []float64{0.2, 0.8, 0}}}, 0, 0.05)
	if err == nil || !strings.Contains(err.Error(), "bona fide") {
		t.Errorf("report without bona fide frames: %v", err)
	}
}
