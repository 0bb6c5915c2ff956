package match

import (
	"errors"
	"fmt"
	"math"

	"github.com/ikd-field/ikd/kiosk"
)

// MatchMaxDistance is the raw-distance guard of the published and converted classes. The
// calibration, fitted on one population, scores faces unlike it as alike (Debian's johns: 78 %
// of impostor pairs below the match threshold, at raw distances of 0.66 and more), while
// dlib's raw distance still separates them. 0.45 keeps 97 % of the calibration data's own
// matches (in-sample) and turns every such impostor match into "uncertain"
// (assets/calibration/README.md, "The converted model").
const MatchMaxDistance = 0.45

// ModelThresholds are the decision thresholds for one class of recognition model.
type ModelThresholds struct {
	kiosk.FaceThresholds
	// MatchMaxDistance, when > 0, is a second condition of a match: the raw Euclidean
	// distance between the mean live and the mean reference descriptor (what
	// kiosk/face.Verdict.Distance holds) must be below it; otherwise a match is uncertain.
	MatchMaxDistance float64 `json:"match_max_distance,omitempty"`
}

// ErrBadMatchGuard: the raw-distance guard is negative or not finite.
var ErrBadMatchGuard = errors.New("invalid match_max_distance: need a finite value ≥ 0")

// Validate checks that m can decide.
func (m ModelThresholds) Validate() error {
	if err := m.FaceThresholds.Validate(); err != nil {
		return err
	}
	if g := m.MatchMaxDistance; g < 0 || math.IsNaN(g) || math.IsInf(g, 0) {
		return fmt.Errorf("%w (%v)", ErrBadMatchGuard, g)
	}
	return nil
}

// AllowsMatch reports whether a match may stand at raw distance d: always without a guard,
// else only below it (a NaN distance fails, so the officer decides).
func (m ModelThresholds) AllowsMatch(d float64) bool {
	return m.MatchMaxDistance == 0 || d < m.MatchMaxDistance
}

// ThresholdsFor returns the thresholds for a model class: its thresholds_by_model entry, else
// the calibration's default thresholds without a guard (an asset without the entry decides as
// before).
func (c *Calibration) ThresholdsFor(class kiosk.ModelClass) ModelThresholds {
	if m, ok := c.ThresholdsByModel[class]; ok {
		return m
	}
	return ModelThresholds{FaceThresholds: c.Thresholds}
}

func validateByModel(byModel map[kiosk.ModelClass]ModelThresholds) error {
	for class, m := range byModel {
		if err := m.Validate(); err != nil {
			return fmt.Errorf("thresholds_by_model %q: %w", class, err)
		}
	}
	return nil
}
