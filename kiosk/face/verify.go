package face

import (
	"errors"
	"fmt"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face/match"
)

// Scorer compares a live face with a person's references on a calibrated distance-like
// scale; *match.Calibration implements it.
type Scorer interface {
	// Score fuses the live frames and the references and scores them (smaller is more
	// alike). It fails with match.ErrNoDescriptors when a side is empty and with
	// kiosk.ErrDescriptorNotFinite for a NaN or infinite value.
	Score(live, refs []Descriptor) (match.Score, error)
}

var _ Scorer = (*match.Calibration)(nil)

// Verifier measures a live face against a resident (the score against the references and,
// with an index, the 1:N search of the snapshot) and leaves the decision to kiosk.DecideFace.
type Verifier struct {
	scorer     Scorer
	thresholds kiosk.FaceThresholds
	model      kiosk.ModelClass
	index      *match.Index
}

// NewVerifier decides with scorer and thresholds; model is the class of the recognition
// model that makes the descriptors (ModelSet.Class(RecognitionFile)), which caps the band.
// index is the snapshot's 1:N index; nil skips the search.
func NewVerifier(scorer Scorer, th kiosk.FaceThresholds, model kiosk.ModelClass, index *match.Index) (*Verifier, error) {
	if scorer == nil {
		return nil, errors.New("face verifier: no scorer")
	}
	if err := th.Validate(); err != nil {
		return nil, fmt.Errorf("face verifier: %w", err)
	}
	return &Verifier{scorer: scorer, thresholds: th, model: model, index: index}, nil
}

// Verdict is the decision on a live face with the raw distance beside it.
type Verdict struct {
	kiosk.FaceResult
	// Distance is the raw Euclidean distance between the mean live descriptor and the mean
	// reference descriptor, for the log and for comparison with dlib's literature.
	Distance float64
}

// Verify compares the live descriptors (the best frames of a capture) with r's references
// and, with an index, with everyone in the snapshot.
func (v *Verifier) Verify(live []Descriptor, r kiosk.Resident) (Verdict, error) {
	if len(live) == 0 || len(r.References) == 0 {
		return Verdict{}, fmt.Errorf("face verify: %w", match.ErrNoDescriptors)
	}
	s, err := v.scorer.Score(live, r.References)
	if err != nil {
		return Verdict{}, fmt.Errorf("face verify: %w", err)
	}
	mean := Mean(live)
	ev := kiosk.FaceEvidence{Score: float64(s), Distance: match.Distance(mean, Mean(r.References)),
		Model: v.model, Live: mean}
	if v.index != nil {
		hits, err := v.index.Search(live, match.Score(v.thresholds.Match))
		if err != nil {
			return Verdict{}, fmt.Errorf("1:N search: %w", err)
		}
		for _, h := range hits {
			ev.Hits = append(ev.Hits, kiosk.FaceHit{NIK: kiosk.NIK(h.Key), Score: float64(h.Score)})
		}
	}
	return Verdict{FaceResult: kiosk.DecideFace(v.thresholds, r.NIK, ev), Distance: ev.Distance}, nil
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
