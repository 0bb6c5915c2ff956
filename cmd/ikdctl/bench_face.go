package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ikd-field/ikd/internal/imagefile"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/dlib/facebench"
)

func benchFace(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("bench face", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	models := fs.String("models", "", "model directory (default $IKD_MODELS, else "+devModelDir+")")
	photo := fs.String("photo", "", "face photo for the benchmark frame (default: a shared test photo beside the models, else one of Debian's dlib example photos)")
	n := fs.Int("n", 31, "iterations per measurement")
	refs := fs.Int("refs", 200000, "references in the 1:N search index")
	quick := fs.Bool("quick", false, "3 iterations and a 2,000-reference index (for tests; numbers are not meaningful)")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return &exitError{code: 2, err: fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if *quick {
		*n, *refs = 3, 2000
	}
	dir := face.ResolveModelDir(*models, devModelDir)
	if *photo == "" {
		*photo = defaultBenchPhoto(dir)
	}
	img, err := imagefile.Read(*photo)
	if errors.Is(err, os.ErrNotExist) {
		return &exitError{code: 2, err: fmt.Errorf("benchmark photo: %w (give --photo)", err)}
	}
	if err != nil {
		return fmt.Errorf("benchmark photo %s: %w", *photo, err)
	}
	rep, err := facebench.Run(ctx, facebench.Options{ModelDir: dir, Photo: img, Iterations: *n, References: *refs})
	if err != nil {
		return err
	}
	return rep.Write(e.stdout)
}

// defaultBenchPhoto is the shared test photo beside a development model directory, else a
// frontal photo from Debian's libdlib19.1 examples (installed with libdlib-dev), so that
// make bench runs on a fresh machine too.
func defaultBenchPhoto(modelDir string) string {
	candidates := []string{
		filepath.Join(modelDir, "..", "testdata", "faces", "nayoung", "1.jpg"),
		"/usr/share/doc/libdlib19.1/examples/johns/John_Schneider/000325_00925954.jpg",
	}
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return candidates[0] // the error names the first choice; --photo gives another
}
