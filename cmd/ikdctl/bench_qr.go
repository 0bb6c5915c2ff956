package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/ikd-field/ikd/kiosk/qr/qrbench"
)

// benchQR compares our QR scanner with plain gozxing, zbar and zxing-cpp on synthetic frames
// and on real photos (zxing blackbox sets in the gozxing module directory).
func benchQR(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("bench qr", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	quick := fs.Bool("quick", false, "one frame per condition (for tests; numbers are not meaningful)")
	frames := fs.Int("frames", 10, "code frames per condition and frame size")
	noCode := fs.Int("nocode-frames", 30, "frames with no code in view, per frame size")
	photos := fs.String("photos", "", "directory of the real QR photos (default: gozxing's module directory)")
	if err := fs.Parse(e.args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: 2, err: err}
	}
	if fs.NArg() > 0 {
		return &exitError{code: 2, err: fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if *quick {
		*frames, *noCode = 1, 3
	}
	if *frames < 1 || *noCode < 1 {
		return &exitError{code: 2, err: fmt.Errorf("--frames and --nocode-frames must be at least 1")}
	}
	rep, err := qrbench.Run(ctx, qrbench.Options{FramesPerCondition: *frames, NoCodeFrames: *noCode, PhotoDir: *photos})
	if err != nil {
		return err
	}
	return rep.WriteTable(e.stdout)
}
