package sync

import (
	"encoding/binary"
	"fmt"

	"github.com/x448/float16"

	"github.com/ikd-field/ikd/kiosk"
)

// References travel as IEEE half-precision values: 256 bytes instead of 512 a descriptor, and
// a kecamatan's snapshot is mostly references. Half precision keeps about three significant
// digits, far finer than the differences face matching decides on (dlib descriptors are
// unit-scale values compared at a distance of about 0.5).

// ReferenceBytes is the size of a reference on the wire: 128 half-precision values.
const ReferenceBytes = len(kiosk.Descriptor{}) * 2

// EncodeReference returns the wire form of d: 128 little-endian half-precision values. A value
// beyond half precision's range becomes infinite and the reference is then refused by
// DecodeReference, so a registry never sends what a kiosk cannot use without noticing.
func EncodeReference(d kiosk.Descriptor) []byte {
	b := make([]byte, 0, ReferenceBytes)
	for _, v := range d {
		b = binary.LittleEndian.AppendUint16(b, float16.Fromfloat32(v).Bits())
	}
	return b
}

// DecodeReference reads the wire form of a reference. It fails with an error matching
// ErrMessageMalformed for the wrong length or a NaN or infinite value.
func DecodeReference(b []byte) (kiosk.Descriptor, error) {
	var d kiosk.Descriptor
	if len(b) != ReferenceBytes {
		return kiosk.Descriptor{}, ErrMessageMalformed.With(fmt.Errorf("reference is %d bytes, want %d", len(b), ReferenceBytes))
	}
	for i := range d {
		d[i] = float16.Frombits(binary.LittleEndian.Uint16(b[2*i:])).Float32()
	}
	if err := d.Validate(); err != nil {
		return kiosk.Descriptor{}, ErrMessageMalformed.With(fmt.Errorf("reference: %w", err))
	}
	return d, nil
}
