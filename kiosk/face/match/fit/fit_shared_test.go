package fit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/ikd-field/ikd/internal/slowtest"
	"github.com/ikd-field/ikd/kiosk/face/match"
)

// TestSlowShippedCalibrationReproduces is the golden check of assets/calibration/face-v1.json:
// fitting DefaultFitConfig on idols-dev.json must give the shipped parameters and thresholds.
// Regenerate with the command in the asset's provenance when the recipe changes.
func TestSlowShippedCalibrationReproduces(t *testing.T) {
	slowtest.Skip(t, "fits and cross-validates the calibration (seconds; minutes under -race)")
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
	fp, sp := params(t, fitted), params(t, shipped)
	for j := range sp.Mean {
		if d := math.Abs(float64(fp.Mean[j] - sp.Mean[j])); d > tol {
			t.Fatalf("mean[%d] fitted %v, shipped %v", j, fp.Mean[j], sp.Mean[j])
		}
	}
	if len(fp.Projection) != len(sp.Projection) {
		t.Fatalf("projection has %d rows, shipped %d", len(fp.Projection), len(sp.Projection))
	}
	for i, row := range sp.Projection {
		for j, v := range row {
			if d := math.Abs(float64(fp.Projection[i][j] - v)); d > tol*math.Max(1, math.Abs(float64(v))) {
				t.Fatalf("projection[%d][%d] fitted %v, shipped %v", i, j, fp.Projection[i][j], v)
			}
		}
	}
	if math.Abs(fp.Scale-sp.Scale) > tol || math.Abs(fp.Offset-sp.Offset) > tol {
		t.Fatalf("score map fitted %v·%v, shipped %v·%v", fp.Scale, fp.Offset, sp.Scale, sp.Offset)
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

// calibrationParams are the fitted numbers of a calibration, read from its asset form.
type calibrationParams struct {
	Mean       []float32   `json:"mean"`
	Projection [][]float32 `json:"projection"`
	Scale      float64     `json:"score_scale"`
	Offset     float64     `json:"score_offset"`
}

func params(t *testing.T, c *match.Calibration) calibrationParams {
	t.Helper()
	b, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var p calibrationParams
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}
