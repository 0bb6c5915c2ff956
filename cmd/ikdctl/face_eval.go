package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face/match"
	"github.com/ikd-field/ikd/kiosk/face/match/fit"
)

// faceEval prints genuine/impostor error rates of raw Euclidean distance and of the kiosk's
// calibrated score on a labelled descriptor file (idols.json format). The calibrated score
// is on the raw-distance scale, so both use the same threshold grid.
func faceEval(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("face eval", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	path := fs.String("descriptors", "", "labelled descriptor file (idols.json format)")
	cv := fs.Bool("cv", false, "also refit the calibration recipe in people-disjoint cross-validation on this file (seconds)")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() > 0 {
		return &exitError{code: 2, err: fmt.Errorf("usage: ikdctl face eval --descriptors FILE.json [--cv]")}
	}
	raw, err := os.ReadFile(*path)
	if err != nil {
		return fmt.Errorf("read descriptors: %w", err)
	}
	ds, err := fit.LoadDataset(*path)
	if err != nil {
		return err
	}
	cal, err := match.Default()
	if err != nil {
		return err
	}
	w := e.stdout
	rawScores := fit.RawPairScores(ds)
	calScores := fit.CalibratedPairScores(cal, ds)
	fmt.Fprintf(w, "descriptors %s: %d faces\n", *path, len(ds.Faces))
	fmt.Fprintf(w, "pairs genuine %d impostor %d\n", len(rawScores.Genuine), len(rawScores.Impostor))
	fmt.Fprintln(w, "\nraw Euclidean distance (same person if below t):")
	printRates(w, rawScores)
	fmt.Fprintf(w, "\ncalibrated score, shipped calibration (%s), on the raw-distance scale:\n", cal.Provenance.Method)
	printRates(w, calScores)

	th := cal.Thresholds
	fmt.Fprintf(w, "\nbands at the default thresholds: match below %.3f, no match above %.3f, uncertain between\n", th.Match, th.NoMatch)
	fmt.Fprintf(w, "  genuine pairs:  %s\n", bandShares(calScores.Genuine, th))
	fmt.Fprintf(w, "  impostor pairs: %s\n", bandShares(calScores.Impostor, th))

	pcv := cal.Provenance.CV
	fmt.Fprintf(w, "\npeople-disjoint CV estimate shipped with the calibration (%d folds x %d repeats, %s):\n", pcv.Folds, pcv.Repeats, cal.Provenance.Source)
	fmt.Fprintf(w, "  at match %.3f: FMR %.6f (folds %.6f..%.6f) FNMR %.4f; %d live frames fused: FMR %.6f FNMR %.4f\n",
		th.Match, pcv.MatchFMR, pcv.MatchFMRFoldMin, pcv.MatchFMRFoldMax, pcv.MatchFNMR, pcv.FusedFrames, pcv.FusedFMR, pcv.FusedFNMR)
	fmt.Fprintf(w, "  at no match %.3f: genuine rejected %.4f\n", th.NoMatch, pcv.NoMatchGenuineRejected)
	if *cv {
		if err := ctx.Err(); err != nil {
			return err
		}
		res, err := fit.CrossValidate(ds, fit.ShippedSpec, fit.DefaultCV)
		if err != nil {
			return err
		}
		p := res.Pooled
		t3 := p.ThresholdForFMR(1e-3)
		fmt.Fprintf(w, "people-disjoint CV on this file (recipe refitted per fold, %d folds x %d repeats, %d genuine, %d impostor pairs):\n",
			fit.DefaultCV.Folds, fit.DefaultCV.Repeats, len(p.Genuine), len(p.Impostor))
		fmt.Fprintf(w, "  at match %.3f: FMR %.6f FNMR %.4f; FMR 1e-3 at t=%.3f (FNMR %.4f)\n", th.Match, p.FMR(float64(th.Match)), p.FNMR(float64(th.Match)), t3, p.FNMR(t3))
	}

	sum := sha256.Sum256(raw)
	if hex.EncodeToString(sum[:]) == cal.Provenance.SourceSHA256 {
		fmt.Fprintln(w, "\nNOTE: this is the file the shipped calibration was fitted on: the calibrated numbers above are IN-SAMPLE (optimistic); the people-disjoint CV estimate is the honest one.")
	} else {
		fmt.Fprintln(w, "\nnote: this is not the calibration's source file; the calibrated numbers are out-of-sample unless its people were in that file.")
	}
	fmt.Fprintf(w, "default-match-threshold %.3f fmr %.6f fnmr %.4f\n", th.Match, calScores.FMR(float64(th.Match)), calScores.FNMR(float64(th.Match)))
	return nil
}

func printRates(w io.Writer, p fit.PairScores) {
	fmt.Fprintf(w, "  %-9s %-10s %s\n", "t", "FMR", "FNMR")
	for i := 0; i <= 7; i++ {
		t := 0.30 + 0.05*float64(i)
		fmt.Fprintf(w, "  %-9.2f %-10.6f %.4f\n", t, p.FMR(t), p.FNMR(t))
	}
	for _, target := range []float64{1e-3, 1e-4} {
		t := p.ThresholdForFMR(target)
		fmt.Fprintf(w, "  FMR %g reached at t=%.3f (FMR %.6f, FNMR %.4f)\n", target, t, p.FMR(t), p.FNMR(t))
	}
}

// bandShares places each score in its band with kiosk.DecideFace for dlib's published model
// (no cap, no 1:N search): the calibration's own view of the scores.
func bandShares(scores []float64, th kiosk.FaceThresholds) string {
	n := map[kiosk.Band]int{}
	for _, s := range scores {
		n[kiosk.DecideFace(th, "", kiosk.FaceEvidence{Score: s, Model: kiosk.ModelPublished}).Band]++
	}
	total := float64(len(scores))
	return fmt.Sprintf("match %.4f uncertain %.4f no match %.4f", float64(n[kiosk.BandMatch])/total, float64(n[kiosk.BandUncertain])/total, float64(n[kiosk.BandNoMatch])/total)
}
