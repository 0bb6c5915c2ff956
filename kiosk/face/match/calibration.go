package match

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/ikd-field/ikd/kiosk"
)

// Calibration turns raw descriptors into calibrated scores. It holds a learned projection
// (L2-normalise, centre, whiten the within-class covariance), the affine map that puts the
// resulting cosine score on the raw-distance scale, the default decision thresholds and the
// provenance of all of it. Load the shipped one with Default; it is safe for concurrent use.
type Calibration struct {
	mean [Dim]float32
	proj []float32 // rows × Dim, row-major; rows ordered by decreasing discriminative power
	rows int
	// between is the between-class variance along each row relative to the within-class
	// variance (1 after whitening): how the calibration data's people spread. Used to draw
	// realistic synthetic references; nil when the projection does not whiten.
	between []float32
	scale   float64 // calibrated score = offset − scale·cos(embeddings)
	off     float64

	// Thresholds are the data-derived defaults (kiosk.DecideFace applies them); a deployment
	// may configure others.
	Thresholds kiosk.FaceThresholds
	Provenance Provenance

	// ThresholdsByModel holds thresholds for recognition-model classes
	// (kiosk.ModelPublished, kiosk.ModelConverted); see ThresholdsFor.
	ThresholdsByModel map[kiosk.ModelClass]kiosk.FaceThresholds
}

// Score is a calibrated, distance-like face score: smaller is more alike. It is on the scale
// of raw Euclidean descriptor distance (its impostor mean and spread equal the raw ones on the
// calibration data), so its thresholds read like the customary raw ones, but it separates
// people better. It is the value FaceResult.Score records.
type Score float64

// Errors for inputs a score cannot be computed from.
var (
	ErrNoDescriptors  = errors.New("no descriptors on one side of the comparison")
	ErrBadCalibration = errors.New("invalid calibration")
)

// Embedding is a descriptor after the calibration's projection: unit length.
type Embedding []float32

// Dims is the length of the calibration's embeddings.
func (c *Calibration) Dims() int { return c.rows }

// Embed projects one descriptor. The caller must have validated d (see Descriptor.Validate).
func (c *Calibration) Embed(d Descriptor) Embedding {
	e := make(Embedding, c.rows)
	c.embedInto(d, e)
	return e
}

func (c *Calibration) embedInto(d Descriptor, dst Embedding) {
	x := CentredUnit(d, c.mean[:])
	var en float64
	out := make([]float64, c.rows)
	for i := range c.rows {
		row := c.proj[i*Dim : (i+1)*Dim : (i+1)*Dim]
		// Four accumulators break the add dependency chain (about 3× faster index builds).
		var s0, s1, s2, s3 float64
		for j := 0; j < Dim; j += 4 {
			s0 += float64(row[j]) * x[j]
			s1 += float64(row[j+1]) * x[j+1]
			s2 += float64(row[j+2]) * x[j+2]
			s3 += float64(row[j+3]) * x[j+3]
		}
		s := (s0 + s1) + (s2 + s3)
		out[i] = s
		en += s * s
	}
	en = math.Sqrt(en)
	if en == 0 {
		en = 1
	}
	for i, v := range out {
		dst[i] = float32(v / en)
	}
}

// fuse embeds several descriptors of one face and returns their mean direction: averaging
// several live frames (or several references) cancels part of each one's noise.
func (c *Calibration) fuse(descs []Descriptor) ([]float64, error) {
	if len(descs) == 0 {
		return nil, ErrNoDescriptors
	}
	sum := make([]float64, c.rows)
	e := make(Embedding, c.rows)
	for i, d := range descs {
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("descriptor %d: %w", i, err)
		}
		c.embedInto(d, e)
		for k, v := range e {
			sum[k] += float64(v)
		}
	}
	normalise(sum)
	return sum, nil
}

// Score compares a live face, given as one or more frames' descriptors, with a person's
// reference descriptors. Each side is fused into one direction first.
func (c *Calibration) Score(live, refs []Descriptor) (Score, error) {
	l, err := c.fuse(live)
	if err != nil {
		return 0, fmt.Errorf("live face: %w", err)
	}
	r, err := c.fuse(refs)
	if err != nil {
		return 0, fmt.Errorf("reference: %w", err)
	}
	return c.FromCosine(dot(l, r)), nil
}

// FromCosine is the calibrated score of a cosine similarity between two embeddings.
func (c *Calibration) FromCosine(cos float64) Score {
	return Score(c.off - c.scale*cos)
}

// cosineFor is the cosine similarity at which the calibrated score equals s.
func (c *Calibration) cosineFor(s Score) float64 {
	return (c.off - float64(s)) / c.scale
}

// Provenance records where a calibration came from.
type Provenance struct {
	Source       string    `json:"source"`
	SourceSHA256 string    `json:"source_sha256"`
	People       int       `json:"people"`
	Faces        int       `json:"faces"`
	Method       string    `json:"method"`
	Fitted       string    `json:"fitted"` // date, YYYY-MM-DD
	Command      string    `json:"command"`
	CV           CVSummary `json:"cross_validation"`
}

// CVSummary is the people-disjoint cross-validated estimate of the shipped thresholds.
type CVSummary struct {
	Folds    int    `json:"folds"`
	Repeats  int    `json:"repeats"`
	Seed     uint64 `json:"seed"`
	Genuine  int    `json:"genuine_pairs"`
	Impostor int    `json:"impostor_pairs"`
	// At the match threshold, one live frame against one reference.
	MatchFMR  float64 `json:"match_fmr"`
	MatchFNMR float64 `json:"match_fnmr"`
	// Spread of the FMR over the individual folds at the match threshold.
	MatchFMRFoldMin float64 `json:"match_fmr_fold_min"`
	MatchFMRFoldMax float64 `json:"match_fmr_fold_max"`
	// Genuine pairs above the no-match threshold (rejected outright), and impostors not
	// rejected outright (left to the officer's eye or matched).
	NoMatchGenuineRejected float64 `json:"no_match_genuine_rejected"`
	NoMatchImpostorBelow   float64 `json:"no_match_impostor_below"`
	// The same at the match threshold with FusedFrames live frames fused (different photos
	// of the person here, so an optimistic bound for frames of one session).
	FusedFrames int     `json:"fused_frames"`
	FusedFMR    float64 `json:"fused_match_fmr"`
	FusedFNMR   float64 `json:"fused_match_fnmr"`
}

// calibrationFile is the asset's JSON form.
type calibrationFile struct {
	Format     string               `json:"format"`
	Mean       []float32            `json:"mean"`
	Projection [][]float32          `json:"projection"`
	Between    []float32            `json:"between_class_variance,omitempty"`
	Scale      float64              `json:"score_scale"`
	Offset     float64              `json:"score_offset"`
	Thresholds kiosk.FaceThresholds `json:"thresholds"`
	Provenance Provenance           `json:"provenance"`

	ByModel map[kiosk.ModelClass]kiosk.FaceThresholds `json:"thresholds_by_model,omitempty"`
}

const calibrationFormat = "ikd-face-calibration/1"

// ParseCalibration reads a calibration asset and checks it.
func ParseCalibration(b []byte) (*Calibration, error) {
	var f calibrationFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCalibration, err)
	}
	if f.Format != calibrationFormat {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrBadCalibration, f.Format, calibrationFormat)
	}
	if len(f.Mean) != Dim || len(f.Projection) == 0 || len(f.Projection) > Dim {
		return nil, fmt.Errorf("%w: mean has %d values and projection %d rows; want %d and 1..%d", ErrBadCalibration, len(f.Mean), len(f.Projection), Dim, Dim)
	}
	c := &Calibration{rows: len(f.Projection), between: f.Between, scale: f.Scale, off: f.Offset, Thresholds: f.Thresholds, ThresholdsByModel: f.ByModel, Provenance: f.Provenance}
	copy(c.mean[:], f.Mean)
	c.proj = make([]float32, 0, c.rows*Dim)
	for i, row := range f.Projection {
		if len(row) != Dim {
			return nil, fmt.Errorf("%w: projection row %d has %d values, want %d", ErrBadCalibration, i, len(row), Dim)
		}
		c.proj = append(c.proj, row...)
	}
	if f.Between != nil && len(f.Between) != c.rows {
		return nil, fmt.Errorf("%w: %d between-class variances for %d projection rows", ErrBadCalibration, len(f.Between), c.rows)
	}
	for _, v := range slices.Concat(f.Mean, c.proj, f.Between) {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%w: non-finite parameter", ErrBadCalibration)
		}
	}
	if !(c.scale > 0) || math.IsInf(c.scale, 0) || math.IsNaN(c.off) || math.IsInf(c.off, 0) {
		return nil, fmt.Errorf("%w: score map scale %v offset %v", ErrBadCalibration, c.scale, c.off)
	}
	if err := c.Thresholds.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCalibration, err)
	}
	if err := validateByModel(f.ByModel); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCalibration, err)
	}
	return c, nil
}

// MarshalJSON writes the asset form that ParseCalibration reads.
func (c *Calibration) MarshalJSON() ([]byte, error) {
	f := calibrationFile{
		Format: calibrationFormat, Mean: c.mean[:], Between: c.between, Scale: c.scale, Offset: c.off,
		Thresholds: c.Thresholds, ByModel: c.ThresholdsByModel, Provenance: c.Provenance,
	}
	for i := range c.rows {
		f.Projection = append(f.Projection, c.proj[i*Dim:(i+1)*Dim])
	}
	return json.MarshalIndent(f, "", " ")
}

// NewCalibration makes a calibration from fitted parameters (package fit): the descriptor
// mean, the projection (rows × Dim, row-major, most discriminative row first), the
// between-class variance along each row (nil without whitening) and the affine map from
// cosine to score (score = off − scale·cos). The caller sets Thresholds and Provenance.
func NewCalibration(mean [Dim]float32, proj, between []float32, scale, off float64) *Calibration {
	return &Calibration{mean: mean, proj: proj, rows: len(proj) / Dim, between: between, scale: scale, off: off}
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func normalise(v []float64) {
	n := math.Sqrt(dot(v, v))
	if n > 0 {
		for i := range v {
			v[i] /= n
		}
	}
}
