// Package calibration embeds the kiosk's learned face-score calibration. Package
// kiosk/face/match parses it (match.Default); README.md says how it was fitted, from what,
// and what it measured.
package calibration

import (
	"bytes"
	_ "embed"
)

//go:embed face-v1.json
var faceV1 []byte

// FaceV1 returns a copy of face-v1.json: projection, score map, default thresholds and
// provenance, in the format of match.ParseCalibration.
func FaceV1() []byte { return bytes.Clone(faceV1) }
