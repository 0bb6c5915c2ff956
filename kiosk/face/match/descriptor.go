package match

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Dim is the length of a dlib face descriptor.
const Dim = 128

// Descriptor is one 128-d face descriptor from dlib's face recognition network, the same
// layout as go-face's face.Descriptor and kiosk.Descriptor (convert with a type conversion).
type Descriptor [Dim]float32

// DescriptorBytes is the size of a descriptor's wire form: 128 little-endian float32 values.
const DescriptorBytes = Dim * 4

// Errors for a descriptor that cannot be used.
var (
	// ErrDescriptorLength: the wire form is not exactly DescriptorBytes long.
	ErrDescriptorLength = errors.New("descriptor is not 512 bytes (128 float32)")
	// ErrDescriptorNotFinite: a value is NaN or infinite.
	ErrDescriptorNotFinite = errors.New("descriptor has a NaN or infinite value")
)

// DecodeDescriptor reads the wire form: 128 little-endian IEEE-754 float32 values.
func DecodeDescriptor(b []byte) (Descriptor, error) {
	var d Descriptor
	if len(b) != DescriptorBytes {
		return d, fmt.Errorf("%w: got %d bytes", ErrDescriptorLength, len(b))
	}
	for i := range d {
		d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return d, d.Validate()
}

// AppendBinary appends the wire form of d to b.
func (d Descriptor) AppendBinary(b []byte) ([]byte, error) {
	for _, v := range d {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b, nil
}

// Validate reports ErrDescriptorNotFinite if any value is NaN or infinite. Such a value would
// make every distance NaN, and a NaN compares false with every threshold.
func (d Descriptor) Validate() error {
	for i, v := range d {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: value %d is %v", ErrDescriptorNotFinite, i, v)
		}
	}
	return nil
}

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

// centredUnit scales d to unit length and subtracts mean: the first step of every embedding,
// at fit time (float64 mean) and at run time (the asset's float32 mean).
func centredUnit[T float32 | float64](d Descriptor, mean []T) [Dim]float64 {
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
