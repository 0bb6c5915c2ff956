// Command calibfit fits the kiosk's face-score calibration from a labelled descriptor file
// and writes the asset that package calibration embeds. Run from the module root:
//
//	go run ./kiosk/face/match/cmd/calibfit -descriptors ../shared/testdata/descriptors/idols-dev.json -out assets/calibration/face-v1.json
//
// With -report it instead prints the people-disjoint cross-validation table of every
// calibration step tried (the table in assets/calibration/README.md).
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face/match"
	"github.com/ikd-field/ikd/kiosk/face/match/fit"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "calibfit:", err)
		os.Exit(1)
	}
}

const fitCommand = "go run ./kiosk/face/match/cmd/calibfit -descriptors ../shared/testdata/descriptors/idols-dev.json -out assets/calibration/face-v1.json"

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("calibfit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("descriptors", "", "labelled descriptor file (idols.json format)")
	out := fs.String("out", "", "write the calibration asset here")
	date := fs.String("date", time.Now().UTC().Format(time.DateOnly), "fit date recorded in the provenance")
	report := fs.Bool("report", false, "print the cross-validation table of every step tried instead of fitting")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || (*out == "" && !*report) {
		return fmt.Errorf("need -descriptors and -out (or -report)")
	}
	raw, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	ds, err := fit.LoadDataset(*in)
	if err != nil {
		return err
	}
	if *report {
		return printReport(stdout, ds)
	}
	c, err := fit.Fit(ds, fit.DefaultFitConfig)
	if err != nil {
		return err
	}
	// The face-api port moves descriptors enough to need its own thresholds (README of
	// assets/calibration); both classes get the raw-distance guard.
	conv, _, err := fit.PortThresholds(ds, c.Thresholds, fit.ConvertedPortError, fit.DefaultFitConfig)
	if err != nil {
		return err
	}
	c.ThresholdsByModel = map[kiosk.ModelClass]kiosk.FaceThresholds{
		kiosk.ModelPublished: withGuard(c.Thresholds),
		kiosk.ModelConverted: withGuard(conv),
	}
	sum := sha256.Sum256(raw)
	c.Provenance.Source = filepath.Base(*in) + " (subset of idols.json, Kagami/go-face-testdata; dlib's published recognition model)"
	c.Provenance.SourceSHA256 = hex.EncodeToString(sum[:])
	c.Provenance.Fitted = *date
	c.Provenance.Command = fitCommand
	b, err := c.MarshalJSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	th, cv := c.Thresholds, c.Provenance.CV
	fmt.Fprintf(stdout, "wrote %s: match < %.3f (CV FMR %.2e, FNMR %.1f%%; %d frames fused FMR %.2e FNMR %.1f%%), no match > %.3f (CV genuine rejected %.2f%%)\n",
		*out, th.Match, cv.MatchFMR, 100*cv.MatchFNMR, cv.FusedFrames, cv.FusedFMR, 100*cv.FusedFNMR, th.NoMatch, 100*cv.NoMatchGenuineRejected)
	fmt.Fprintf(stdout, "converted model (face-api 8-bit port): match < %.3f, no match > %.3f; both classes: match only at raw distance < %.2f\n", conv.Match, conv.NoMatch, match.MatchMaxDistance)
	return nil
}

// printReport cross-validates each calibration step on the same people-disjoint folds.
func printReport(w io.Writer, ds *fit.Dataset) error {
	cv := fit.DefaultCV
	fmt.Fprintf(w, "people-disjoint CV: %d folds x %d repeats (seed %d); one live frame vs one reference unless noted\n", cv.Folds, cv.Repeats, cv.Seed)
	fmt.Fprintf(w, "%-44s %8s %9s | %-22s | %-22s | %s\n", "step", "genuine", "impostor", "FMR 1e-3: t  FNMR", "FMR 1e-4: t  FNMR", "1% genuine above t: t  impostors below")
	line := func(name string, p fit.PairScores) {
		t3, t4 := p.ThresholdForFMR(1e-3), p.ThresholdForFMR(1e-4)
		tn := p.ThresholdForGenuineAbove(0.01)
		fmt.Fprintf(w, "%-44s %8d %9d | %.3f  %5.1f%%          | %.3f  %5.1f%%          | %.3f  %5.1f%%\n",
			name, len(p.Genuine), len(p.Impostor), t3, 100*p.FNMR(t3), t4, 100*p.FNMR(t4), tn, 100*(1-p.ImpostorAbove(tn)))
	}
	line("raw Euclidean (all pairs, no fitting)", fit.RawPairScores(ds))
	line("L2-normalised Euclidean (all pairs)", l2PairScores(ds))
	steps := []struct {
		name string
		spec fit.Spec
	}{
		{"centre + L2 + cosine", fit.Spec{}},
		{"+ WCCN shrink 0.1", fit.Spec{Fit: fit.FitOptions{Whiten: true, Shrink: 0.1}}},
		{"+ WCCN shrink 0.3 (shipped)", fit.ShippedSpec},
		{"+ WCCN shrink 0.5", fit.Spec{Fit: fit.FitOptions{Whiten: true, Shrink: 0.5}}},
		{"PCA 64 + WCCN shrink 0.3", fit.Spec{Fit: fit.FitOptions{PCADim: 64, Whiten: true, Shrink: 0.3}}},
		{"LDA 64 dims (WCCN shrink 0.3)", fit.Spec{Fit: fit.FitOptions{Whiten: true, Shrink: 0.3, OutDim: 64}}},
		{"LDA 32 dims (WCCN shrink 0.3)", fit.Spec{Fit: fit.FitOptions{Whiten: true, Shrink: 0.3, OutDim: 32}}},
		{"shipped + S-norm (held-out cohort)", fit.Spec{Fit: fit.ShippedSpec.Fit, Cohort: fit.CohortNorm{SNorm: true}}},
		{"shipped + adaptive S-norm top 50", fit.Spec{Fit: fit.ShippedSpec.Fit, Cohort: fit.CohortNorm{SNorm: true, TopK: 50}}},
		{"centre + L2 + cosine, 3 frames fused", fit.Spec{Frames: 3}},
		{"shipped, 2 frames fused", fit.Spec{Fit: fit.ShippedSpec.Fit, Frames: 2}},
		{"shipped, 3 frames fused", fit.Spec{Fit: fit.ShippedSpec.Fit, Frames: 3}},
	}
	for _, s := range steps {
		r, err := fit.CrossValidate(ds, s.spec, cv)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		line(s.name, r.Pooled)
	}
	return nil
}

func l2PairScores(ds *fit.Dataset) fit.PairScores {
	unit := make([]match.Descriptor, len(ds.Faces))
	for i, f := range ds.Faces {
		var n float64
		for _, v := range f.Descriptor {
			n += float64(v) * float64(v)
		}
		n = math.Sqrt(n)
		for j, v := range f.Descriptor {
			unit[i][j] = float32(float64(v) / n)
		}
	}
	var g, imp []float64
	for i := range unit {
		for j := i + 1; j < len(unit); j++ {
			d := match.Distance(unit[i], unit[j])
			if ds.Faces[i].Person == ds.Faces[j].Person {
				g = append(g, d)
			} else {
				imp = append(imp, d)
			}
		}
	}
	return fit.NewPairScores(g, imp)
}

func withGuard(th kiosk.FaceThresholds) kiosk.FaceThresholds {
	th.MatchMaxDistance = match.MatchMaxDistance
	return th
}
