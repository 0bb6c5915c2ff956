// Command calibport estimates what the shipped face calibration does with descriptors of a
// recognition model that differs slightly from dlib's published one (the face-api 8-bit
// port): the labelled descriptors are moved by each perturbation, and the people-disjoint
// cross-validation (calibrations fitted on the clean descriptors) reports the error rates at
// the shipped thresholds. Run from the module root:
//
//	go run ./kiosk/face/match/cmd/calibport -descriptors ../shared/testdata/descriptors/idols-dev.json
//
// -own and -common take comma-separated displacement lengths (paired by position; see
// fit.Perturbation); -seeds repeats every row with other random directions.
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/ikd-field/ikd/kiosk/face/match"
	"github.com/ikd-field/ikd/kiosk/face/match/fit"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "calibport:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("calibport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("descriptors", "", "labelled descriptor file (idols.json format)")
	own := fs.String("own", "0,0.03,0.042,0.05,0.021,0", "per-descriptor displacement lengths")
	common := fs.String("common", "0,0,0,0,0.036,0.042", "common displacement lengths, one per -own entry")
	seeds := fs.Int("seeds", 1, "random directions per row (seeds 1..N)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" {
		return fmt.Errorf("need -descriptors")
	}
	owns, err := floats(*own)
	if err != nil {
		return fmt.Errorf("-own: %w", err)
	}
	commons, err := floats(*common)
	if err != nil {
		return fmt.Errorf("-common: %w", err)
	}
	if len(owns) != len(commons) {
		return fmt.Errorf("-own has %d entries, -common %d", len(owns), len(commons))
	}
	if *seeds < 1 {
		return fmt.Errorf("-seeds %d: need at least 1", *seeds)
	}
	ds, err := fit.LoadDataset(*in)
	if err != nil {
		return err
	}
	c, err := match.Default()
	if err != nil {
		return err
	}
	th, cfg := c.Thresholds, fit.DefaultFitConfig
	fmt.Fprintf(stdout, "shipped thresholds match < %.3f, no match > %.3f; people-disjoint CV %d folds x %d repeats (seed %d), fitted on clean descriptors, scored on moved ones\n",
		th.Match, th.NoMatch, cfg.CV.Folds, cfg.CV.Repeats, cfg.CV.Seed)
	fmt.Fprintf(stdout, "%-30s | %-17s | %-17s | %-19s | %-17s | %s\n", "perturbation (own, common, seed)",
		"1 frame FMR FNMR", fmt.Sprintf("%d fused FMR FNMR", cfg.FusedFrames), "no match: gen> imp<", "t@FMR 1e-3 FNMR", fmt.Sprintf("%d fused t@1e-3 FNMR", cfg.FusedFrames))
	for i := range owns {
		for s := 1; s <= *seeds; s++ {
			p := fit.Perturbation{Own: owns[i], Common: commons[i], Seed: uint64(s)}
			r, err := fit.EvaluatePerturbed(ds, p, th, cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%.3f %.3f %-18d | %.2e %5.1f%% | %.2e %5.1f%% | %5.2f%% %6.1f%%     | %.3f %5.1f%%      | %.3f %5.1f%%\n",
				p.Own, p.Common, p.Seed, r.MatchFMR, 100*r.MatchFNMR, r.FusedFMR, 100*r.FusedFNMR,
				100*r.NoMatchGenuineRejected, 100*r.NoMatchImpostorBelow, r.ThresholdAtFMR, 100*r.FNMRAtFMR,
				r.FusedThresholdAtFMR, 100*r.FusedFNMRAtFMR)
			if p.Own == 0 && p.Common == 0 {
				break // no direction to vary
			}
		}
	}
	conv, rates, err := fit.PortThresholds(ds, th, fit.ConvertedPortError, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "derived for the measured port error (fit.ConvertedPortError): match < %.3f, no match > %.3f\n", conv.Match, conv.NoMatch)
	for _, r := range rates {
		fmt.Fprintf(stdout, "  %v: 1 frame FMR %.2e FNMR %.1f%%; %d fused FMR %.2e FNMR %.1f%%; genuine rejected %.2f%%, impostors below no match %.1f%%\n",
			r.Perturbation, r.MatchFMR, 100*r.MatchFNMR, r.FusedFrames, r.FusedFMR, 100*r.FusedFNMR, 100*r.NoMatchGenuineRejected, 100*r.NoMatchImpostorBelow)
	}
	return nil
}

func floats(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, err
		}
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("length %v: need a finite value ≥ 0", v)
		}
		out = append(out, v)
	}
	return out, nil
}
