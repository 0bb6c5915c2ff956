package qr_test

import (
	"context"
	"image"
	"testing"

	"github.com/ikd-field/ikd/kiosk/qr"
	"github.com/ikd-field/ikd/kiosk/qr/qrbench"
)

// benchFrames renders frames of the named condition (or no code) once per benchmark.
func benchFrames(b *testing.B, c qrbench.Condition, size image.Point) []qrbench.Frame {
	b.Helper()
	frames, err := qrbench.Frames(c, size, 8)
	if err != nil {
		b.Fatal(err)
	}
	return frames
}

func condition(b *testing.B, name string) qrbench.Condition {
	for _, c := range qrbench.Conditions() {
		if c.Name == name {
			return c
		}
	}
	b.Fatalf("no condition %q", name)
	return qrbench.Condition{}
}

// BenchmarkDecode compares the scanner with plain gozxing per frame. No-code frames go through
// one Scanner in sequence (a camera stream); code frames use a fresh Scanner each time so
// that no memory of the previous frame helps.
func BenchmarkDecode(b *testing.B) {
	ctx := context.Background()
	hd := image.Pt(1280, 720)
	cases := []struct {
		name  string
		cond  qrbench.Condition
		fresh bool
	}{
		{"NoCode", qrbench.NoCode, false},
		{"Baseline", condition(b, "baseline-4px"), true},
		{"SmallBlurryNoisy", condition(b, "small-blurry-noisy-3px"), true},
	}
	for _, c := range cases {
		frames := benchFrames(b, c.cond, hd)
		b.Run(c.name+"/Scanner", func(b *testing.B) {
			stream := &qr.Scanner{}
			i := 0
			for b.Loop() {
				s := stream
				if c.fresh {
					s = &qr.Scanner{}
				}
				_, _ = s.Decode(ctx, frames[i%len(frames)].Image)
				i++
			}
		})
		b.Run(c.name+"/Plain", func(b *testing.B) {
			i := 0
			for b.Loop() {
				_, _ = qr.Plain{}.Decode(ctx, frames[i%len(frames)].Image)
				i++
			}
		})
	}
}

// BenchmarkSteadyCode is the cost per frame while a code stays in view: after the first read
// the scanner starts with what worked.
func BenchmarkSteadyCode(b *testing.B) {
	frames := benchFrames(b, condition(b, "baseline-4px"), image.Pt(1280, 720))
	s := &qr.Scanner{}
	for b.Loop() {
		_, _ = s.Decode(context.Background(), frames[0].Image)
	}
}
