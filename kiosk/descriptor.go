package kiosk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Descriptor is a 128-dimensional face descriptor (dlib's face recognition network output),
// the same layout as go-face's face.Descriptor.
type Descriptor [128]float32

// DescriptorBytes is the size of a descriptor's wire form: 128 little-endian float32 values.
const DescriptorBytes = len(Descriptor{}) * 4

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
