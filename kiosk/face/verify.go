package face

import (
	"errors"
	"fmt"

	"github.com/ikd-field/ikd/kiosk/face/match"
)

// Scorer compares a live face with a person's references on a calibrated distance-like
// scale; *match.Calibration implements it.
type Scorer interface {
	Score(live, refs []Descriptor) (match.Score, error)
}

var _ Scorer = (*match.Calibration)(nil)

// Verifier turns live and reference descriptors into a three-band decision.
type Verifier struct {
	scorer     Scorer
	thresholds match.Thresholds
	trusted    bool
}

// NewVerifier decides with scorer and thresholds. models says which recognition model made
// the descriptors: unless it is dlib's published model, a match is never reported (see
// Verdict.Downgraded), because a stand-in or unknown network's distances mean nothing.
func NewVerifier(scorer Scorer, th match.Thresholds, models ModelSet) (*Verifier, error) {
	if scorer == nil {
		return nil, errors.New("face verifier: no scorer")
	}
	if err := th.Validate(); err != nil {
		return nil, fmt.Errorf("face verifier: %w", err)
	}
	return &Verifier{scorer: scorer, thresholds: th, trusted: models.Kind(RecognitionFile) == KindPublished}, nil
}

// Verdict is the outcome of comparing a live face with a reference.
type Verdict struct {
	// Distance is the raw Euclidean distance between the mean live descriptor and the mean
	// reference descriptor, for the log and for comparison with dlib's literature.
	Distance float64
	// Score is the calibrated score the band is decided on.
	Score match.Score
	Band  match.Band
	// Downgraded is true when the score fell in the match band but the recognition model is
	// not a published one, so Band was set to Uncertain: the officer decides by eye.
	Downgraded bool
}

// Verify compares the live descriptors (the best frames of a capture) with the references.
func (v *Verifier) Verify(live, refs []Descriptor) (Verdict, error) {
	if len(live) == 0 || len(refs) == 0 {
		return Verdict{}, fmt.Errorf("face verify: %w", match.ErrNoDescriptors)
	}
	s, err := v.scorer.Score(live, refs)
	if err != nil {
		return Verdict{}, fmt.Errorf("face verify: %w", err)
	}
	vd := Verdict{Distance: match.Distance(Mean(live), Mean(refs)), Score: s, Band: v.thresholds.Decide(s)}
	if vd.Band == match.Match && !v.trusted {
		vd.Band, vd.Downgraded = match.Uncertain, true
	}
	return vd, nil
}

// Mean is the element-wise mean of descriptors (zero for none).
func Mean(ds []Descriptor) Descriptor {
	var sum [128]float64
	for _, d := range ds {
		for i, v := range d {
			sum[i] += float64(v)
		}
	}
	var m Descriptor
	if len(ds) == 0 {
		return m
	}
	for i, s := range sum {
		m[i] = float32(s / float64(len(ds)))
	}
	return m
}
