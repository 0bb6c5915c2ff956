package match

import (
	"math"

	"github.com/ikd-field/ikd/kiosk"
)

// Dim is the length of a dlib face descriptor.
const Dim = 128

// Descriptor is the core's descriptor type (an alias, not a copy: no conversions), named
// here so that the matcher's code reads in its own terms.
type Descriptor = kiosk.Descriptor

// Distance is the Euclidean distance between two raw descriptors, the measure dlib's
// published thresholds (such as 0.6) refer to.
func Distance(a, b Descriptor) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

// CentredUnit scales d to unit length and subtracts mean: the first step of every embedding,
// at fit time (float64 mean) and at run time (the asset's float32 mean).
func CentredUnit[T float32 | float64](d Descriptor, mean []T) [Dim]float64 {
	var norm float64
	for _, v := range d {
		norm += float64(v) * float64(v)
	}
	norm = math.Sqrt(norm)
	if norm == 0 {
		norm = 1
	}
	var x [Dim]float64
	for j, v := range d {
		x[j] = float64(v)/norm - float64(mean[j])
	}
	return x
}
