package match

import (
	"fmt"

	"github.com/ikd-field/ikd/assets/calibration"
)

// Default returns the shipped calibration (assets/calibration/face-v1.json).
func Default() (*Calibration, error) {
	c, err := ParseCalibration(calibration.FaceV1())
	if err != nil {
		return nil, fmt.Errorf("shipped face calibration: %w", err)
	}
	return c, nil
}
