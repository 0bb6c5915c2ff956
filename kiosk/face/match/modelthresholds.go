package match

import (
	"fmt"

	"github.com/ikd-field/ikd/kiosk"
)

// MatchMaxDistance is the raw-distance guard of the published and converted classes. The
// calibration, fitted on one population, scores faces unlike it as alike (Debian's johns: 78 %
// of impostor pairs below the match threshold, at raw distances of 0.66 and more), while
// dlib's raw distance still separates them. 0.45 keeps 97 % of the calibration data's own
// matches (in-sample) and turns every such impostor match into "uncertain"
// (assets/calibration/README.md, "The converted model").
const MatchMaxDistance = 0.45

// ThresholdsFor returns the thresholds for a model class: its thresholds_by_model entry, else
// the calibration's default thresholds without a guard (an asset without the entry decides as
// before).
func (c *Calibration) ThresholdsFor(class kiosk.ModelClass) kiosk.FaceThresholds {
	if m, ok := c.ThresholdsByModel[class]; ok {
		return m
	}
	return c.Thresholds
}

func validateByModel(byModel map[kiosk.ModelClass]kiosk.FaceThresholds) error {
	for class, m := range byModel {
		if err := m.Validate(); err != nil {
			return fmt.Errorf("thresholds_by_model %q: %w", class, err)
		}
	}
	return nil
}
