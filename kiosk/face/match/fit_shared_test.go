package match

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"testing"
)

// TestShippedCalibrationReproduces is the golden check of assets/calibration/face-v1.json:
// fitting DefaultFitConfig on idols-dev.json must give the shipped parameters and thresholds.
// Regenerate with the command in the asset's provenance when the recipe changes.
func TestShippedCalibrationReproduces(t *testing.T) {
	if testing.Short() {
		t.Skip("fits and cross-validates the calibration (seconds; minutes under -race)")
	}
	path := sharedDescriptorFile(t)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	shipped := mustDefault(t)
	sum := sha256.Sum256(raw)
	if got := hex.EncodeToString(sum[:]); got != shipped.Provenance.SourceSHA256 {
		t.Skipf("shared descriptor file %s is not the one the asset was fitted on (%s)", got, shipped.Provenance.SourceSHA256)
	}
	fitted, err := Fit(sharedDataset(t), DefaultFitConfig)
	if err != nil {
		t.Fatal(err)
	}
	// Tolerances allow for floating-point differences between platforms (for example fused
	// multiply-add on arm64); a real change of recipe or data moves these by far more.
	const tol = 1e-4
	for j := range shipped.mean {
		if d := math.Abs(float64(fitted.mean[j] - shipped.mean[j])); d > tol {
			t.Fatalf("mean[%d] fitted %v, shipped %v", j, fitted.mean[j], shipped.mean[j])
		}
	}
	if len(fitted.proj) != len(shipped.proj) {
		t.Fatalf("projection has %d values, shipped %d", len(fitted.proj), len(shipped.proj))
	}
	for i := range shipped.proj {
		if d := math.Abs(float64(fitted.proj[i] - shipped.proj[i])); d > tol*math.Max(1, math.Abs(float64(shipped.proj[i]))) {
			t.Fatalf("projection[%d] fitted %v, shipped %v", i, fitted.proj[i], shipped.proj[i])
		}
	}
	if math.Abs(fitted.scale-shipped.scale) > tol || math.Abs(fitted.off-shipped.off) > tol {
		t.Fatalf("score map fitted %v·%v, shipped %v·%v", fitted.scale, fitted.off, shipped.scale, shipped.off)
	}
	if fitted.Thresholds != shipped.Thresholds {
		t.Fatalf("thresholds fitted %+v, shipped %+v", fitted.Thresholds, shipped.Thresholds)
	}
	f, s := fitted.Provenance, shipped.Provenance
	if f.People != s.People || f.Faces != s.Faces || f.Method != s.Method || f.CV.Genuine != s.CV.Genuine || f.CV.Impostor != s.CV.Impostor ||
		math.Abs(f.CV.MatchFNMR-s.CV.MatchFNMR) > 1e-3 || math.Abs(f.CV.MatchFMR-s.CV.MatchFMR) > 1e-4 {
		t.Fatalf("provenance fitted %+v, shipped %+v", f, s)
	}
}

// TestShippedCalibrationBeatsRaw: on the calibration data (in-sample, so only a sanity
// check; the honest numbers are the cross-validated ones in the provenance) the calibrated
// score must separate better than raw distance at the same false-match rate.
func TestShippedCalibrationBeatsRaw(t *testing.T) {
	ds := sharedDataset(t)
	c := mustDefault(t)
	raw := RawPairScores(ds)
	cal := CalibratedPairScores(c, ds)
	if len(cal.Genuine) != len(raw.Genuine) || len(cal.Impostor) != len(raw.Impostor) {
		t.Fatalf("pair counts differ: %d/%d vs %d/%d", len(cal.Genuine), len(cal.Impostor), len(raw.Genuine), len(raw.Impostor))
	}
	rawFNMR := raw.FNMR(raw.ThresholdForFMR(1e-3))
	calFNMR := cal.FNMR(cal.ThresholdForFMR(1e-3))
	if calFNMR >= rawFNMR {
		t.Fatalf("FNMR at FMR 1e-3: calibrated %.3f, raw %.3f", calFNMR, rawFNMR)
	}
	if got := cal.FMR(float64(c.Thresholds.Match)); got > 2e-3 {
		t.Fatalf("in-sample FMR at the shipped match threshold %v = %v", c.Thresholds.Match, got)
	}
}
