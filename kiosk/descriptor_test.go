package kiosk

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

func TestDecodeDescriptor(t *testing.T) {
	var want Descriptor
	for i := range want {
		want[i] = float32(i)/100 - 0.5
	}
	good, _ := want.AppendBinary(nil)
	withValue := func(v float32) []byte {
		b, _ := want.AppendBinary(nil)
		binary.LittleEndian.PutUint32(b[4*7:], math.Float32bits(v))
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"Valid", good, nil},
		{"Empty", nil, ErrDescriptorLength},
		{"OneByteShort", good[:DescriptorBytes-1], ErrDescriptorLength},
		{"OneFloatLong", append(append([]byte{}, good...), 0, 0, 0, 0), ErrDescriptorLength},
		{"NaN", withValue(float32(math.NaN())), ErrDescriptorNotFinite},
		{"PlusInf", withValue(float32(math.Inf(1))), ErrDescriptorNotFinite},
		{"MinusInf", withValue(float32(math.Inf(-1))), ErrDescriptorNotFinite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeDescriptor(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if tt.want == nil && got != want {
				t.Fatalf("decoded %v, want %v", got[:4], want[:4])
			}
		})
	}
}
