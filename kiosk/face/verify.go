package face

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

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
	modern     *Modern
	templates  TemplateSource
	// modernIndex holds the snapshot's templates of the modern engine (nil: none built).
	modernIndex *match.TemplateIndex
}

// TemplateSource gives a resident's template for the modern engine (computed from the
// resident's small reference photo, or carried by the snapshot). It returns nil and no error
// when the resident has none: the modern engine then has no opinion on that resident.
type TemplateSource interface {
	Template(ctx context.Context, m *Modern, nik kiosk.NIK) (Embedding, error)
}

// WithModern returns a copy of v that also measures with the modern engine m, against the
// templates src gives (both nil: dlib alone).
func (v *Verifier) WithModern(m *Modern, src TemplateSource) *Verifier {
	c := *v
	c.modern, c.templates = m, src
	return &c
}

// WithModernIndex returns a copy of v whose 1:N search also searches ix, the snapshot's
// templates of v's modern engine (WithModern), for residents the live face matches there.
func (v *Verifier) WithModernIndex(ix *match.TemplateIndex) *Verifier {
	c := *v
	c.modernIndex = ix
	return &c
}

// The modern 1:N search asks the index for the best modernHits residents at or above the
// modern match threshold less indexSlack, then rescores them with their float32 templates:
// the index's int8 similarity is within 0.003 of the exact one (BENCHMARKS.md), so no
// resident at the threshold is missed.
const (
	modernHits = 16
	indexSlack = 0.01
)

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
// and, with an index, with everyone in the snapshot. It uses dlib alone.
func (v *Verifier) Verify(live []Descriptor, r kiosk.Resident) (Verdict, error) {
	return v.verify(context.Background(), live, nil, r)
}

// VerifyObservations is Verify on analysed faces (a capture's best frames): with the modern
// engine, their templates (computed here from the full-resolution frame where missing) are
// compared with r's and with those of the residents the 1:N search finds as well.
func (v *Verifier) VerifyObservations(ctx context.Context, obs []Observation, r kiosk.Resident) (Verdict, error) {
	live := make([]Descriptor, len(obs))
	var embs []Embedding
	for i, o := range obs {
		live[i] = o.Descriptor
		e := o.Embedding
		if e == nil && v.modern != nil && o.frame != nil {
			var err error
			if e, err = v.modern.Embed(ctx, o.frame, o.Shape); err != nil {
				return Verdict{}, fmt.Errorf("face verify: %w", err)
			}
		}
		if e != nil {
			embs = append(embs, e)
		}
	}
	return v.verify(ctx, live, embs, r)
}

func (v *Verifier) verify(ctx context.Context, live []Descriptor, embs []Embedding, r kiosk.Resident) (Verdict, error) {
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
			ev.Hits = append(ev.Hits, kiosk.FaceHit{NIK: kiosk.NIK(h.Key), Score: float64(h.Score), Similarity: math.NaN()})
		}
	}
	if v.modern != nil && v.templates != nil {
		if err := v.measureModern(ctx, embs, r.NIK, &ev); err != nil {
			return Verdict{}, err
		}
	}
	return Verdict{FaceResult: kiosk.DecideFace(v.thresholds, r.NIK, ev), Distance: ev.Distance}, nil
}

// measureModern adds the modern engine's similarity against the claimed resident's template
// and against each other resident the 1:N search found. No live template (no frame passed
// the gate with the engine running) or no reference template leaves the similarity NaN.
func (v *Verifier) measureModern(ctx context.Context, embs []Embedding, nik kiosk.NIK, ev *kiosk.FaceEvidence) error {
	m := v.modern.Model()
	ev.Modern = &kiosk.ModernEvidence{Engine: m.Engine, Similarity: math.NaN(), Model: m.Class, Licence: m.Licence}
	live := MeanEmbedding(embs)
	if live == nil {
		return nil
	}
	sim := func(n kiosk.NIK) (float64, error) {
		ref, err := v.templates.Template(ctx, v.modern, n)
		if err != nil || ref == nil {
			return math.NaN(), err
		}
		return Cosine(live, ref), nil
	}
	var err error
	if ev.Modern.Similarity, err = sim(nik); err != nil {
		return fmt.Errorf("modern template of the resident: %w", err)
	}
	if mt := v.thresholds.Modern.Match; v.modernIndex != nil && mt > 0 {
		found, err := v.modernIndex.Search(live, mt-indexSlack, modernHits)
		if err != nil {
			return fmt.Errorf("1:N search of modern templates: %w", err)
		}
		for _, f := range found {
			if !slices.ContainsFunc(ev.Hits, func(h kiosk.FaceHit) bool { return string(h.NIK) == f.Key }) {
				ev.Hits = append(ev.Hits, kiosk.FaceHit{NIK: kiosk.NIK(f.Key), Score: math.NaN(), Similarity: f.Similarity})
			}
		}
	}
	for i, h := range ev.Hits {
		if h.NIK == nik {
			continue
		}
		s, err := sim(h.NIK)
		if err != nil {
			return fmt.Errorf("modern template of a 1:N hit: %w", err)
		}
		if !math.IsNaN(s) || !isIndexHit(h) {
			ev.Hits[i].Similarity = s
		}
	}
	return nil
}

// isIndexHit reports whether h came from the modern index alone: its similarity stands when
// the template source has no template for it (the snapshot moved since the index was built).
func isIndexHit(h kiosk.FaceHit) bool { return math.IsNaN(h.Score) }

// MeanEmbedding is the unit-length mean of unit templates (nil for none or a zero mean).
func MeanEmbedding(es []Embedding) Embedding {
	if len(es) == 0 {
		return nil
	}
	sum := make([]float64, len(es[0]))
	for _, e := range es {
		if len(e) != len(sum) {
			return nil
		}
		for i, x := range e {
			sum[i] += float64(x)
		}
	}
	var n float64
	for _, x := range sum {
		n += x * x
	}
	n = math.Sqrt(n)
	if !(n > 0) {
		return nil
	}
	out := make(Embedding, len(sum))
	for i, x := range sum {
		out[i] = float32(x / n)
	}
	return out
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
