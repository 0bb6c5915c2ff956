package kiosk

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// This file is the one home of the face decision: every band the kiosk shows comes from
// DecideFace. The face pipeline (kiosk/face) only measures: a calibrated score, the class of
// the recognition model that made it, and the 1:N search hits.

// ModelClass says where the recognition model that produced a face score comes from, judged
// by the SHA-256 of its file (kiosk/face's model table). It caps the decision.
type ModelClass string

const (
	// ModelPublished is dlib's own published file.
	ModelPublished ModelClass = "published"
	// ModelConverted is dlib's weights ported back into dlib's format from another package
	// (an 8-bit quantised port), listed only once a test has shown that its descriptors fit
	// the calibration.
	ModelConverted ModelClass = "converted"
	// ModelDevelopment was trained for this project's tests; not for deployment.
	ModelDevelopment ModelClass = "development"
	// ModelStandIn has random weights: it loads and costs the same and recognises no one.
	ModelStandIn ModelClass = "stand-in"
	// ModelUnknown is a file whose hash is in no list (a newer release or a tampered file).
	ModelUnknown ModelClass = "unknown"
)

// ModelOperator is a modern-engine model the operator listed by SHA-256 and licence in the
// models file they control (kiosk/face: ReadModelsFile); the operator vouches for it.
const ModelOperator ModelClass = "operator"

// Licence is whether the terms of a model's weights (and the data they were trained on) have
// been cleared for production use. It is part of a model's identity.
type Licence string

const (
	// LicenceCleared: an operator or the project has checked the licence.
	LicenceCleared Licence = "cleared"
	// LicenceUnverified: the licence of the weights or of their training data is not known
	// to allow this use; such a model decides a match only where the operator allows it.
	LicenceUnverified Licence = "unverified"
)

// MayMatch reports whether scores of a recognition model of class c may report a match.
// Only dlib's weights do; any other model's distances mean nothing to the calibration, so
// its matches are capped to uncertain and the officer decides by eye.
func (c ModelClass) MayMatch() bool { return c == ModelPublished || c == ModelConverted }

// FaceThresholds split calibrated scores into bands: below Match is a match, above NoMatch is
// no match, anything between (inclusive) is uncertain.
type FaceThresholds struct {
	Match   float64 `json:"match"`
	NoMatch float64 `json:"no_match"`
	// Modern are the modern engine's thresholds (kiosk/face sets them for its model).
	Modern ModernThresholds `json:"modern,omitzero"`
	// MatchMaxDistance, when > 0, is a second condition of a match: the raw Euclidean
	// distance between the mean live and the mean reference descriptor must be below it.
	// The calibration is fitted on one population and can score faces unlike it as alike
	// while dlib's raw distance still separates them (assets/calibration/README.md).
	MatchMaxDistance float64 `json:"match_max_distance,omitempty"`
}

// ErrBadThresholds: the thresholds are not finite, Match exceeds NoMatch, or the distance
// guard is negative.
var ErrBadThresholds = errors.New("invalid face thresholds: need finite match ≤ no_match and match_max_distance ≥ 0")

// Validate checks that t can decide.
func (t FaceThresholds) Validate() error {
	m, n, g := t.Match, t.NoMatch, t.MatchMaxDistance
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if !finite(m) || !finite(n) || !finite(g) || m > n || g < 0 {
		return fmt.Errorf("%w (match %v, no_match %v, match_max_distance %v)", ErrBadThresholds, m, n, g)
	}
	if mt := t.Modern; mt.set() && !(mt.NoMatch <= mt.Match && mt.Match <= 1 && mt.NoMatch >= -1) {
		return fmt.Errorf("%w (modern match %v, no_match %v: need -1 ≤ no_match ≤ match ≤ 1)", ErrBadThresholds, mt.Match, mt.NoMatch)
	}
	return nil
}

// ModernThresholds split the modern engine's cosine similarity (larger is more alike): at or
// above Match a match, below NoMatch no match, between them uncertain. Zero Match means no
// thresholds: the modern engine does not decide.
type ModernThresholds struct {
	Match   float64 `json:"match"`
	NoMatch float64 `json:"no_match"`
	// AllowUnverified is the operator's setting: may a model whose licence is unverified
	// decide a match? Off in a production store, on in the demo and tests.
	AllowUnverified bool `json:"allow_unverified,omitempty"`
}

// set reports whether t can decide.
func (t ModernThresholds) set() bool { return t.Match > 0 }

// FaceHit is one resident found by the 1:N search (dlib's index or the modern engine's),
// with the live face's score against that resident's references.
type FaceHit struct {
	NIK NIK
	// Score is dlib's calibrated score; NaN for a resident only the modern index found.
	Score float64
	// Similarity is the modern engine's cosine similarity against that resident's template
	// of the same engine; NaN when either side has none.
	Similarity float64
}

// ModernEvidence is the modern engine's measurement of the live face against the claimed
// resident's template of the same engine (a template of another engine or version is never
// compared: the pipeline leaves Similarity NaN then).
type ModernEvidence struct {
	Engine     string  // template identity, e.g. "arcface112-crop2:87aacdfe57510db2"
	Similarity float64 // cosine similarity; NaN: no comparable template
	Model      ModelClass
	Licence    Licence
}

// mayDecide reports whether the modern engine's score may set the band under t.
func (m *ModernEvidence) mayDecide(t ModernThresholds) bool {
	if m == nil || math.IsNaN(m.Similarity) || !t.set() {
		return false
	}
	if m.Model != ModelPublished && m.Model != ModelOperator {
		return false
	}
	return m.Licence == LicenceCleared || t.AllowUnverified
}

// onDlibScale maps a similarity onto dlib's calibrated scale by the affine map that puts the
// modern Match on dlib's Match and the modern NoMatch on dlib's NoMatch (decreasing: smaller is
// more alike), so that one score column means the same thing whichever engine decided.
func (t ModernThresholds) onDlibScale(sim float64, th FaceThresholds) float64 {
	if !(t.Match > t.NoMatch) {
		return th.Match + (t.Match - sim)
	}
	return th.Match + (t.Match-sim)*(th.NoMatch-th.Match)/(t.Match-t.NoMatch)
}

// band places a similarity under t.
func (t ModernThresholds) band(sim float64) Band {
	switch {
	case sim >= t.Match:
		return BandMatch
	case sim < t.NoMatch:
		return BandNoMatch
	}
	return BandUncertain
}

// FaceEvidence is what the face pipeline measured for one live face and a claimed resident.
type FaceEvidence struct {
	// Score is the calibrated score against the claimed resident's references (smaller is
	// more alike). NaN is uncertain: the officer decides.
	Score float64
	// Distance is the raw Euclidean distance between the mean live and the mean reference
	// descriptor; NaN fails the distance guard (FaceThresholds.MatchMaxDistance).
	Distance float64
	// Model is the class of the recognition model that made the descriptors.
	Model ModelClass
	// Modern is the modern engine's measurement; nil without the engine.
	Modern *ModernEvidence
	// Hits are the 1:N search results over the snapshot; they may include the claimed
	// resident and residents above the match threshold.
	Hits []FaceHit
	// Live is the live descriptor, kept in the result.
	Live Descriptor
}

// DecideFace places the evidence for resident nik in a band. It is the one place a band is
// decided. The modern engine decides when it may (ModernEvidence: a comparable template, a
// known model, a cleared licence or the operator's AllowUnverified, thresholds set); dlib is
// then a second opinion. Otherwise dlib decides alone, as before the modern engine:
//   - the modern similarity against th.Modern: at or above Match a match, below NoMatch no
//     match, else uncertain; when dlib (a model that may match) puts the pair in the opposite
//     outer band, the band is uncertain with Disagree set. Fusing the two scores was measured
//     and not chosen (BENCHMARKS.md, "Two face engines"): on the shared East Asian photos it
//     moved the AUC from 0.967 to at most 0.970 and caught no impostor the modern model let
//     through, while adding weights fitted on 19 genuine pairs;
//   - dlib's score against the thresholds: below Match a match, above NoMatch no match, else
//     uncertain; a match from a model that may not report one (ModelClass.MayMatch) becomes
//     uncertain, with Capped set; a match whose raw distance is not below a set
//     MatchMaxDistance becomes uncertain, with Guarded set;
//   - every other resident whose dlib score is below Match is listed once in OtherNIKs, in
//     the order of the hits, unless the modern engine decides and puts that resident in its
//     no-match band; when the modern engine decides, so is every other resident it puts in
//     its match band (a hit of the modern 1:N index carries a NaN dlib Score). They do not
//     change the band: NeedsEyeCheck asks for the eye check.
func DecideFace(th FaceThresholds, nik NIK, ev FaceEvidence) FaceResult {
	res := FaceResult{Band: BandUncertain, Score: ev.Score, DlibScore: ev.Score, Live: ev.Live, DecidedBy: EngineDlib}
	switch {
	case ev.Score < th.Match:
		res.Band = BandMatch
	case ev.Score > th.NoMatch:
		res.Band = BandNoMatch
	}
	if res.Band == BandMatch && !ev.Model.MayMatch() {
		res.Band, res.Capped = BandUncertain, true
	}
	if res.Band == BandMatch && th.MatchMaxDistance > 0 && !(ev.Distance < th.MatchMaxDistance) {
		res.Band, res.Guarded = BandUncertain, true
	}
	// dlib's opinion as it would decide alone: a guarded match is no opinion (on
	// Debian's western faces the calibration scores at least 804 of 1210 impostor pairs as matches
	// that only the guard stops).
	dlibOpinion := res.Band
	modern := ev.Modern.mayDecide(th.Modern)
	if ev.Modern != nil {
		m := *ev.Modern
		res.Modern = &m
		res.LicenceCapped = !modern && !math.IsNaN(ev.Modern.Similarity) && ev.Modern.Licence != LicenceCleared && !th.Modern.AllowUnverified
	}
	if modern {
		res.Band = th.Modern.band(ev.Modern.Similarity)
		if ev.Model.MayMatch() && res.Band != BandUncertain && dlibOpinion != BandUncertain && dlibOpinion != res.Band {
			res.Band, res.Disagree = BandUncertain, true
		}
		res.DecidedBy, res.Capped, res.Guarded = EngineModern, false, false
		res.Score = th.Modern.onDlibScale(ev.Modern.Similarity, th)
	}
	for _, h := range ev.Hits {
		if h.NIK == nik || slices.Contains(res.OtherNIKs, h.NIK) {
			continue
		}
		dlibHit := h.Score < th.Match
		if modern && !math.IsNaN(h.Similarity) {
			// The modern engine judges everyone it has a template for: its match lists the
			// resident whatever dlib says, its no match drops dlib's hit, its uncertain
			// leaves dlib's opinion standing.
			if b := th.Modern.band(h.Similarity); b == BandNoMatch || b == BandUncertain && !dlibHit {
				continue
			}
		} else if !dlibHit {
			continue
		}
		res.OtherNIKs = append(res.OtherNIKs, h.NIK)
	}
	return res
}

// The engines that decide a band (FaceResult.DecidedBy).
const (
	EngineDlib   = "dlib"
	EngineModern = "modern"
)

// NeedsEyeCheck is the one eye-check rule, for the workflow, the screens, the demo and the
// benchmarks: the officer compares the citizen with the reference photo by eye before
// approving unless the face matched and matched no one else.
func NeedsEyeCheck(r FaceResult) bool { return r.Band != BandMatch || len(r.OtherNIKs) > 0 }
