package fit

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face/match"
)

// Perturbation moves every descriptor of a data set to imitate a recognition model close
// to, but not the same as, the one the data came from (the face-api 8-bit port against
// dlib's published file: assets/calibration/README.md). Directions are uniformly random and
// drawn from Seed, so a perturbation is reproducible.
type Perturbation struct {
	// Own is the length of each descriptor's own displacement, in a direction drawn per
	// descriptor: the part of a port error that differs from face to face.
	Own float64
	// Common is the length of one displacement added to every descriptor: the part shared
	// by all faces, which cancels in a raw distance but not after the calibration's centring.
	Common float64
	Seed   uint64
}

func (p Perturbation) String() string {
	return fmt.Sprintf("own %.3f, common %.3f (seed %d)", p.Own, p.Common, p.Seed)
}

// Apply returns a copy of ds with every descriptor moved.
func (p Perturbation) Apply(ds *Dataset) *Dataset {
	common := randomDirection(rand.New(rand.NewPCG(p.Seed, 1)))
	own := rand.New(rand.NewPCG(p.Seed, 2))
	out := &Dataset{People: ds.People, Faces: make([]Face, len(ds.Faces))}
	for i, f := range ds.Faces {
		u := randomDirection(own)
		for k := range f.Descriptor {
			f.Descriptor[k] = float32(float64(f.Descriptor[k]) + p.Own*u[k] + p.Common*common[k])
		}
		out.Faces[i] = f
	}
	return out
}

// randomDirection is a unit vector uniformly distributed on the sphere (normalised Gaussian).
func randomDirection(rng *rand.Rand) [match.Dim]float64 {
	var v [match.Dim]float64
	for {
		var n float64
		for k := range v {
			v[k] = rng.NormFloat64()
			n += v[k] * v[k]
		}
		if n > 0 {
			n = math.Sqrt(n)
			for k := range v {
				v[k] /= n
			}
			return v
		}
	}
}

// PerturbedRates are people-disjoint cross-validated error rates of calibrations fitted on
// the clean descriptors (as the shipped one was) and scoring perturbed ones (as the kiosk
// scores the descriptors of a model it was not fitted on), at given thresholds.
type PerturbedRates struct {
	Perturbation      Perturbation
	Genuine, Impostor int // one-frame pairs
	// One live frame against one reference, at the match threshold.
	MatchFMR, MatchFNMR float64
	// Genuine pairs rejected outright, impostor pairs not rejected outright (no-match
	// threshold), and the smallest no-match threshold rejecting at most cfg.NoMatchGenuine.
	NoMatchGenuineRejected, NoMatchImpostorBelow, NoMatchThreshold float64
	// FusedFrames live frames fused, at the match threshold.
	FusedFrames         int
	FusedFMR, FusedFNMR float64
	// The largest thresholds with FMR ≤ MatchFMRTarget, one frame and fused, and the FNMR there.
	MatchFMRTarget                      float64
	ThresholdAtFMR, FNMRAtFMR           float64
	FusedThresholdAtFMR, FusedFNMRAtFMR float64
}

// EvaluatePerturbed cross-validates cfg's recipe (folds, fused frames, FMR target) with
// the scored faces moved by p, and reports the rates at th.
func EvaluatePerturbed(ds *Dataset, p Perturbation, th kiosk.FaceThresholds, cfg FitConfig) (PerturbedRates, error) {
	single, fused, err := perturbedScores(ds, p, cfg)
	if err != nil {
		return PerturbedRates{}, err
	}
	return perturbedRates(p, single, fused, th, cfg), nil
}

// perturbedScores are the pooled CV scores, one frame and cfg.FusedFrames fused (empty when
// cfg.FusedFrames ≤ 1).
func perturbedScores(ds *Dataset, p Perturbation, cfg FitConfig) (single, fused PairScores, err error) {
	moved := p.Apply(ds)
	spec := cfg.Spec
	spec.Frames = 1
	cv, err := crossValidate(ds, moved, spec, cfg.CV)
	if err != nil {
		return single, fused, fmt.Errorf("perturbed %v: %w", p, err)
	}
	if cfg.FusedFrames > 1 {
		spec.Frames = cfg.FusedFrames
		fcv, err := crossValidate(ds, moved, spec, cfg.CV)
		if err != nil {
			return single, fused, fmt.Errorf("perturbed %v, %d frames fused: %w", p, cfg.FusedFrames, err)
		}
		fused = fcv.Pooled
	}
	return cv.Pooled, fused, nil
}

func perturbedRates(p Perturbation, s, f PairScores, th kiosk.FaceThresholds, cfg FitConfig) PerturbedRates {
	m, n := th.Match, th.NoMatch
	r := PerturbedRates{
		Perturbation: p, Genuine: len(s.Genuine), Impostor: len(s.Impostor),
		MatchFMR: s.FMR(m), MatchFNMR: s.FNMR(m),
		NoMatchGenuineRejected: s.GenuineAbove(n), NoMatchImpostorBelow: 1 - s.ImpostorAbove(n),
		NoMatchThreshold: s.ThresholdForGenuineAbove(cfg.NoMatchGenuine),
		FusedFrames:      cfg.FusedFrames, FusedFMR: math.NaN(), FusedFNMR: math.NaN(), FusedThresholdAtFMR: math.NaN(), FusedFNMRAtFMR: math.NaN(),
		MatchFMRTarget: cfg.MatchFMR, ThresholdAtFMR: s.ThresholdForFMR(cfg.MatchFMR),
	}
	r.FNMRAtFMR = s.FNMR(r.ThresholdAtFMR)
	if cfg.FusedFrames > 1 {
		r.FusedFMR, r.FusedFNMR = f.FMR(m), f.FNMR(m)
		r.FusedThresholdAtFMR = f.ThresholdForFMR(cfg.MatchFMR)
		r.FusedFNMRAtFMR = f.FNMR(r.FusedThresholdAtFMR)
	}
	return r
}

// ConvertedPortError is the measured port error of the face-api 8-bit model (median
// displacement 0.042: 0.036 common to all faces, 0.021 each face's own; README of
// assets/calibration), with three random directions.
var ConvertedPortError = []Perturbation{
	{Own: 0.021, Common: 0.036, Seed: 1},
	{Own: 0.021, Common: 0.036, Seed: 2},
	{Own: 0.021, Common: 0.036, Seed: 3},
}

// PortThresholds derives thresholds for a model whose descriptors differ from the calibration
// data's by the perturbations ps: the largest match threshold that keeps cfg.MatchFMR under
// every perturbation, one frame and fused, and the smallest no-match threshold rejecting at
// most cfg.NoMatchGenuine under every one, rounded toward the safe side and never looser than
// base. It returns each perturbation's rates at the derived thresholds.
func PortThresholds(ds *Dataset, base kiosk.FaceThresholds, ps []Perturbation, cfg FitConfig) (kiosk.FaceThresholds, []PerturbedRates, error) {
	if len(ps) == 0 {
		return kiosk.FaceThresholds{}, nil, errors.New("port thresholds: no perturbation")
	}
	match, noMatch := base.Match, base.NoMatch
	type scores struct{ single, fused PairScores }
	all := make([]scores, len(ps))
	for i, p := range ps {
		s, f, err := perturbedScores(ds, p, cfg)
		if err != nil {
			return kiosk.FaceThresholds{}, nil, err
		}
		all[i] = scores{s, f}
		match = math.Min(match, s.ThresholdForFMR(cfg.MatchFMR))
		if cfg.FusedFrames > 1 {
			match = math.Min(match, f.ThresholdForFMR(cfg.MatchFMR))
		}
		noMatch = math.Max(noMatch, s.ThresholdForGenuineAbove(cfg.NoMatchGenuine))
	}
	th := kiosk.FaceThresholds{Match: math.Floor(match*1000) / 1000, NoMatch: math.Ceil(noMatch*1000) / 1000}
	th.NoMatch = max(th.NoMatch, th.Match)
	if err := th.Validate(); err != nil {
		return kiosk.FaceThresholds{}, nil, fmt.Errorf("port thresholds: %w", err)
	}
	rates := make([]PerturbedRates, len(ps))
	for i, p := range ps {
		rates[i] = perturbedRates(p, all[i].single, all[i].fused, th, cfg)
	}
	return th, rates, nil
}
