package fit

import (
	"fmt"
	"math"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face/match"
)

// ShippedSpec is the recipe of the shipped calibration: L2-normalise, centre, whiten the
// within-class covariance (shrink 0.3), cosine score. Cohort normalisation, LDA dimension
// cuts and PCA did not help in cross-validation (see README.md of assets/calibration).
var ShippedSpec = Spec{Fit: FitOptions{Whiten: true, Shrink: 0.3}}

// FitConfig says how to fit a calibration and derive its thresholds.
type FitConfig struct {
	Spec Spec
	CV   CVOptions
	// MatchFMR is the false-match rate the match threshold is set for, on cross-validated
	// (people-disjoint) scores.
	MatchFMR float64
	// NoMatchGenuine is the share of genuine pairs the no-match threshold may reject.
	NoMatchGenuine float64
	// FusedFrames is the live-frame count whose cross-validated rates are also reported.
	FusedFrames int
}

// DefaultFitConfig produced the shipped calibration.
var DefaultFitConfig = FitConfig{Spec: ShippedSpec, CV: DefaultCV, MatchFMR: 1e-3, NoMatchGenuine: 0.01, FusedFrames: 3}

// Fit learns the projection on every face of ds and sets the thresholds from
// people-disjoint cross-validated scores, so that they hold for people the projection never
// saw. Provenance fields other than the counts, method and CV summary are the caller's.
func Fit(ds *Dataset, cfg FitConfig) (*match.Calibration, error) {
	descs, labels := ds.split()
	m, err := fitModel(descs, labels, cfg.Spec)
	if err != nil {
		return nil, err
	}
	single := cfg.Spec
	single.Frames = 1
	cv, err := CrossValidate(ds, single, cfg.CV)
	if err != nil {
		return nil, err
	}
	pooled := cv.Pooled
	matchAt := pooled.ThresholdForFMR(cfg.MatchFMR)
	var fusedScores PairScores
	if cfg.FusedFrames > 1 {
		fused := cfg.Spec
		fused.Frames = cfg.FusedFrames
		fcv, err := CrossValidate(ds, fused, cfg.CV)
		if err != nil {
			return nil, err
		}
		fusedScores = fcv.Pooled
		// The kiosk fuses live frames; the threshold must hold the FMR either way.
		matchAt = math.Min(matchAt, fusedScores.ThresholdForFMR(cfg.MatchFMR))
	}
	// Round toward the safe side: a lower match threshold and a higher no-match one.
	th := kiosk.FaceThresholds{
		Match:   math.Floor(matchAt*1000) / 1000,
		NoMatch: math.Ceil(pooled.ThresholdForGenuineAbove(cfg.NoMatchGenuine)*1000) / 1000,
	}
	// Data that separate well put the FMR threshold above the 1 % genuine one: there is then
	// no uncertain band, and raising no-match to match keeps both guarantees.
	th.NoMatch = max(th.NoMatch, th.Match)
	if err := th.Validate(); err != nil {
		return nil, fmt.Errorf("fit: derived thresholds: %w", err)
	}
	sum := match.CVSummary{
		Folds: cfg.CV.Folds, Repeats: cfg.CV.Repeats, Seed: cfg.CV.Seed,
		Genuine: len(pooled.Genuine), Impostor: len(pooled.Impostor),
		MatchFMR: pooled.FMR(th.Match), MatchFNMR: pooled.FNMR(th.Match),
		MatchFMRFoldMin:        math.Inf(1),
		NoMatchGenuineRejected: pooled.GenuineAbove(th.NoMatch),
		NoMatchImpostorBelow:   1 - pooled.ImpostorAbove(th.NoMatch),
		FusedFrames:            cfg.FusedFrames,
		FusedFMR:               fusedScores.FMR(th.Match),
		FusedFNMR:              fusedScores.FNMR(th.Match),
	}
	for _, f := range cv.Folds {
		r := f.Scores.FMR(th.Match)
		sum.MatchFMRFoldMin = math.Min(sum.MatchFMRFoldMin, r)
		sum.MatchFMRFoldMax = math.Max(sum.MatchFMRFoldMax, r)
	}
	c := m.calibration()
	c.Thresholds = th
	c.Provenance = match.Provenance{People: len(peopleWithFaces(labels)), Faces: len(descs), Method: cfg.Spec.String(), CV: sum}
	return c, nil
}

// calibration rounds a fitted model's parameters to the asset's float32 precision.
func (m *model) calibration() *match.Calibration {
	rows, _ := m.proj.W.Dims()
	var mean [match.Dim]float32
	for j, v := range m.proj.Mean {
		mean[j] = float32(v)
	}
	var between []float32
	for _, v := range m.proj.Between {
		between = append(between, float32(v))
	}
	proj := make([]float32, 0, rows*match.Dim)
	for i := range rows {
		for _, v := range m.proj.W.RawRowView(i) {
			proj = append(proj, float32(v))
		}
	}
	return match.NewCalibration(mean, proj, between, m.scale, m.offset)
}

// String describes the recipe in words, for provenance and reports.
func (s Spec) String() string {
	d := "L2-normalise, centre"
	if s.Fit.PCADim > 0 {
		d += fmt.Sprintf(", PCA to %d", s.Fit.PCADim)
	}
	if s.Fit.Whiten {
		d += fmt.Sprintf(", within-class whitening (WCCN, shrink %.2g)", s.Fit.Shrink)
		if s.Fit.OutDim > 0 {
			d += fmt.Sprintf(", LDA to %d dims", s.Fit.OutDim)
		}
	}
	d += ", cosine"
	if s.Cohort.SNorm {
		if s.Cohort.TopK > 0 {
			d += fmt.Sprintf(", adaptive S-norm (top %d)", s.Cohort.TopK)
		} else {
			d += ", S-norm"
		}
	}
	d += ", affine map to the raw-distance scale"
	if s.Frames > 1 {
		d += fmt.Sprintf(", %d live frames fused", s.Frames)
	}
	return d
}
