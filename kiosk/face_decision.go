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

// MayMatch reports whether scores of a recognition model of class c may report a match.
// Only dlib's weights do; any other model's distances mean nothing to the calibration, so
// its matches are capped to uncertain and the officer decides by eye.
func (c ModelClass) MayMatch() bool { return c == ModelPublished || c == ModelConverted }

// FaceThresholds split calibrated scores into bands: below Match is a match, above NoMatch is
// no match, anything between (inclusive) is uncertain.
type FaceThresholds struct {
	Match   float64 `json:"match"`
	NoMatch float64 `json:"no_match"`
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
	return nil
}

// FaceHit is one resident found by the 1:N search, with the live face's score against that
// resident's references.
type FaceHit struct {
	NIK   NIK
	Score float64
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
	// Hits are the 1:N search results over the snapshot; they may include the claimed
	// resident and residents above the match threshold.
	Hits []FaceHit
	// Live is the live descriptor, kept in the result.
	Live Descriptor
}

// DecideFace places the evidence for resident nik in a band:
//   - the score against the thresholds: below Match a match, above NoMatch no match, else
//     uncertain;
//   - a match from a model that may not report one (ModelClass.MayMatch) becomes uncertain,
//     with Capped set;
//   - a match whose raw distance is not below a set MatchMaxDistance becomes uncertain, with
//     Guarded set;
//   - every other resident whose score is below Match is listed once in OtherNIKs, in the
//     order of the hits. They do not change the band: Flow.Approve asks for the eye check.
func DecideFace(th FaceThresholds, nik NIK, ev FaceEvidence) FaceResult {
	res := FaceResult{Band: BandUncertain, Score: ev.Score, Live: ev.Live}
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
	for _, h := range ev.Hits {
		if h.NIK != nik && h.Score < th.Match && !slices.Contains(res.OtherNIKs, h.NIK) {
			res.OtherNIKs = append(res.OtherNIKs, h.NIK)
		}
	}
	return res
}
