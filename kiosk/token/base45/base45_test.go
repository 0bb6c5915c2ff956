package base45

import (
	"bytes"
	"errors"
	"testing"
)

// The examples of RFC 9285 §4.3 and §4.4.
var rfcExamples = []struct{ plain, encoded string }{
	{"AB", "BB8"},
	{"Hello!!", "%69 VD92EX0"},
	{"base-45", "UJCLQE7W581"},
	{"ietf!", "QED8WEX0"},
	{"", ""},
}

func TestEncodeRFCExamples(t *testing.T) {
	for _, ex := range rfcExamples {
		if got := Encode([]byte(ex.plain)); got != ex.encoded {
			t.Errorf("Encode(%q) = %q, want %q", ex.plain, got, ex.encoded)
		}
		if got := EncodedLen(len(ex.plain)); got != len(ex.encoded) {
			t.Errorf("EncodedLen(%d) = %d, want %d", len(ex.plain), got, len(ex.encoded))
		}
	}
}

func TestDecodeRFCExamples(t *testing.T) {
	for _, ex := range rfcExamples {
		got, err := Decode(ex.encoded)
		if err != nil {
			t.Fatalf("Decode(%q): %v", ex.encoded, err)
		}
		if string(got) != ex.plain {
			t.Errorf("Decode(%q) = %q, want %q", ex.encoded, got, ex.plain)
		}
	}
}

func TestDecodeLimits(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []byte
	}{
		{"LargestGroup", "FGW", []byte{0xFF, 0xFF}},
		{"LargestFinalPair", "U5", []byte{0xFF}},
		{"ZeroGroup", "000", []byte{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.in)
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("Decode(%q) = %x, %v; want %x", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"GroupAbove65535", "GGW"}, // RFC 9285 §4.4: 65536
		{"AllCharactersAtMaximum", ":::"},
		{"FinalPairAbove255", "V5"},
		{"DanglingCharacter", "BB8A"},
		{"SingleCharacter", "A"},
		{"LowercaseLetter", "bb8"},
		{"CharacterOutsideAlphabet", "BB#"},
		{"NonASCII", "BBé"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.in)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decode(%q) = %x, %v; want ErrInvalid", tt.in, got, err)
			}
		})
	}
}

func TestRoundTripEveryByte(t *testing.T) {
	for b := 0; b < 256; b++ {
		for _, in := range [][]byte{{byte(b)}, {byte(b), byte(255 - b)}, {0, byte(b), 7}} {
			out, err := Decode(Encode(in))
			if err != nil || !bytes.Equal(out, in) {
				t.Fatalf("round trip %x: got %x, %v", in, out, err)
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, ex := range rfcExamples {
		f.Add(ex.encoded)
	}
	f.Add("GGW")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := Decode(s)
		if err != nil {
			return
		}
		// Base45 is canonical: whatever decodes re-encodes to the same text.
		if again := Encode(b); again != s {
			t.Fatalf("Decode(%q) = %x re-encodes to %q", s, b, again)
		}
	})
}
