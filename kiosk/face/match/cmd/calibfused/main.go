// Command calibfused runs labelled photos through both face engines (dlib through the kiosk's
// analyzer, and the modern ArcFace-style ONNX model on the same landmarks) and prints, per
// photo set and pooled, the genuine/impostor separation of each engine and of the fused
// decision, with confidence intervals. It is an offline tool (make check-calibration), not
// part of the kiosk. Run from the module root:
//
//	go run ./kiosk/face/match/cmd/calibfused -models $IKD_MODELS
//
// Photo sets (each skipped with a message when absent): $IKD_SHARED/testdata/faces (one
// person per folder) and Debian's johns (150×150 chips, one person per folder). Debian's
// example faces (several people a photo) are left out: the kiosk's analyzer takes one face.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/ikd-field/ikd/internal/shareddata"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/dlib"
	"github.com/ikd-field/ikd/kiosk/face/opencvdnn"
)

// debianExamples is where Debian's libdlib19.1 puts dlib's example photos.
const debianExamples = "/usr/share/doc/libdlib19.1/examples"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "calibfused:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("calibfused", flag.ContinueOnError)
	fs.SetOutput(stderr)
	models := fs.String("models", os.Getenv("IKD_MODELS"), "model folder (default $IKD_MODELS)")
	debian := fs.String("debian", debianExamples, "Debian's dlib example photos (johns/)")
	dump := fs.String("dump", "", "also write every sample (set, person, file, both templates) here as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *models == "" {
		return errors.New("need -models (or $IKD_MODELS)")
	}
	sets := []photoSet{{name: "Debian johns", root: filepath.Join(*debian, "johns"), labelled: true, pad: true}}
	if shared, err := shareddata.Dir(); err == nil {
		sets = append([]photoSet{{name: "shared photos", root: filepath.Join(shared, "testdata", "faces"), labelled: true}}, sets...)
	} else {
		fmt.Fprintf(stderr, "skipped shared photos: %v\n", err)
	}
	engine, err := dlib.Load(*models, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer engine.Close()
	mm, err := face.CheckModernModel(*models)
	if err != nil {
		return err
	}
	net, err := opencvdnn.Load(mm.Path, 3, face.ArcFaceSize, face.ArcFaceSize, 512)
	if err != nil {
		return err
	}
	defer net.Close()
	an, err := face.NewAnalyzer(engine, face.DefaultOptions())
	if err != nil {
		return err
	}
	samples, err := describe(context.Background(), an, face.NewModern(net, mm), sets, stderr)
	if err != nil {
		return err
	}
	if *dump != "" {
		b, err := json.Marshal(samples)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*dump, b, 0o600); err != nil {
			return err
		}
	}
	return report(stdout, samples)
}
