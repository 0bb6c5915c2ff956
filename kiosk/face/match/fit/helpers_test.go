package fit

import (
	"math/rand/v2"
	"testing"

	"github.com/ikd-field/ikd/kiosk/face/match"
)

func mustDefault(t testing.TB) *match.Calibration {
	t.Helper()
	c, err := match.Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func randomDescriptor(rng *rand.Rand) match.Descriptor {
	var d match.Descriptor
	for i := range d {
		d[i] = float32(0.12 * rng.NormFloat64())
	}
	return d
}
