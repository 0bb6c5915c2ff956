package qrbench

import (
	"context"
	"errors"
	"fmt"
	"image"
	"regexp"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/internal/slowtest"
	"github.com/ikd-field/ikd/kiosk/qr"
)

func TestSlowRunAndReport(t *testing.T) {
	slowtest.Skip(t, "long pixel run: build/test.sh runs it in the pass without -race")
	conds := []Condition{Conditions()[0], cond("hopeless-contrast", func(s *camera.SceneOptions) { s.Contrast = 0.01 })}
	rep, err := Run(context.Background(), Options{
		FramesPerCondition: 2, NoCodeFrames: 2, Conditions: conds,
		Sizes: []image.Point{{640, 480}, {1280, 720}},
		// A generous budget: the counts must depend on the pictures, not the machine's load.
		NewScanner: func() qr.Decoder { return &qr.Scanner{Budget: qr.NoBudget} },
		Peers: []Peer{
			{Name: "reads-nothing", Command: "true", Text: func(b []byte) string { return string(b) }},
			{Name: "absent", Command: "ikd-no-such-qr-reader", Text: func(b []byte) string { return string(b) }},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]DecoderResult{}
	for _, d := range rep.Decoders {
		byName[d.Name] = d
	}
	if d := byName["ours"]; d.Frames != 8 || d.Decoded["baseline-4px"] != 4 || d.Decoded["hopeless-contrast"] != 0 {
		t.Errorf("ours: %d frames, decoded %v; want 8 frames, 4 baseline reads, none at 1%% contrast", d.Frames, d.Decoded)
	}
	if d := byName["reads-nothing"]; !d.Installed || d.Correct != 0 || d.Frames != 8 || d.Startup.N == 0 {
		t.Errorf("peer that reads nothing: %+v", d)
	}
	if d := byName["absent"]; d.Installed || d.Frames != 0 {
		t.Errorf("missing peer measured: %+v", d)
	}

	var out strings.Builder
	if err := rep.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	table := out.String()
	for _, want := range []string{"INCLUDE process start-up", "absent", "not installed", "hopeless-contrast", "0/4", "1280x720", "640x480"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if rep.PhotoErr != nil {
		t.Logf("real photos not checked: %v", rep.PhotoErr)
	} else {
		n := len(Photos())
		if got, plain := byName["ours"].PhotosRead(1), byName["gozxing-plain"].PhotosRead(1); got < plain || got == 0 {
			t.Errorf("ours read %d/%d real photos, plain gozxing %d", got, n, plain)
		}
		re := regexp.MustCompile(fmt.Sprintf(`\nqr-bench-real ours \d+/%d zxing-cpp - zbar - plain-gozxing \d+\n\nqr-bench `, n))
		if !re.MatchString(table) {
			t.Errorf("no real-photo line before the last line:\n%s", table)
		}
	}
	last := table[strings.LastIndex(strings.TrimSuffix(table, "\n"), "\n")+1:]
	re := regexp.MustCompile(`^qr-bench ours-success 0\.500 best-peer-success 0\.000 nocode-ms [0-9.]+ plain-gozxing-nocode-ms [0-9.]+\n$`)
	if !re.MatchString(last) {
		t.Errorf("last line %q does not match %v", last, re)
	}
}

func TestRunWithoutPhotos(t *testing.T) {
	rep, err := Run(context.Background(), Options{
		FramesPerCondition: 1, NoCodeFrames: 1, Conditions: Conditions()[:1],
		Sizes: []image.Point{{640, 480}}, Peers: []Peer{}, PhotoDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(rep.PhotoErr, ErrNoPhotos) {
		t.Fatalf("photo error %v, want ErrNoPhotos", rep.PhotoErr)
	}
	var out strings.Builder
	if err := rep.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "real photos: skipped") || strings.Contains(s, "qr-bench-real") {
		t.Errorf("table without photos:\n%s", s)
	}
}

func TestRunRejectsNoFrames(t *testing.T) {
	if _, err := Run(context.Background(), Options{FramesPerCondition: 0, NoCodeFrames: 1}); err == nil {
		t.Fatal("no error for zero frames per condition")
	}
}

func TestFramesAreDeterministic(t *testing.T) {
	a, err := Frames(Conditions()[0], image.Pt(640, 480), 2)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Frames(Conditions()[0], image.Pt(640, 480), 2)
	if a[0].Want != b[0].Want || a[0].Want == a[1].Want {
		t.Fatal("frame texts are not fixed per seed and distinct across seeds")
	}
	if !strings.HasPrefix(a[0].Want, "IKD1:") || len(a[0].Want) != 235 {
		t.Fatalf("token stand-in %q", a[0].Want)
	}
}
