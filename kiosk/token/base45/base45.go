// Package base45 implements the Base45 data encoding of RFC 9285.
//
// Base45 uses exactly the 45 characters of the QR code alphanumeric mode, so a QR code holds
// base45 text at 5.5 bits per character instead of 8 in byte mode. The EU digital COVID
// certificate uses it for the same reason the IKD activation QR does.
//
// It is written here because no maintained base45 module was reachable on the Go module proxy
// when this package was made (see /work/notes/token.md); the codec is small and fully tested
// against the RFC's examples.
package base45

import (
	"errors"
	"fmt"
	"strings"
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// decodeTable maps a character to its value, or -1.
var decodeTable = func() [256]int8 {
	var t [256]int8
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = int8(i)
	}
	return t
}()

// ErrInvalid is wrapped by every decoding error.
var ErrInvalid = errors.New("invalid base45")

// EncodedLen returns the length of the encoding of n bytes.
func EncodedLen(n int) int { return n/2*3 + n%2*2 }

// Encode returns the base45 text of src.
func Encode(src []byte) string {
	var b strings.Builder
	b.Grow(EncodedLen(len(src)))
	for i := 0; i+1 < len(src); i += 2 {
		n := int(src[i])<<8 | int(src[i+1])
		b.WriteByte(alphabet[n%45])
		b.WriteByte(alphabet[n/45%45])
		b.WriteByte(alphabet[n/(45*45)])
	}
	if len(src)%2 == 1 {
		n := int(src[len(src)-1])
		b.WriteByte(alphabet[n%45])
		b.WriteByte(alphabet[n/45])
	}
	return b.String()
}

// Decode returns the bytes that s encodes. It rejects characters outside the alphabet, a
// dangling single character, and groups whose value does not fit (RFC 9285 §4.2).
func Decode(s string) ([]byte, error) {
	if len(s)%3 == 1 {
		return nil, fmt.Errorf("%w: length %d leaves a single character", ErrInvalid, len(s))
	}
	dst := make([]byte, 0, len(s)/3*2+1)
	for i := 0; i < len(s); i += 3 {
		group := s[i:min(i+3, len(s))]
		n := 0
		mul := 1
		for j := 0; j < len(group); j++ {
			v := decodeTable[group[j]]
			if v < 0 {
				return nil, fmt.Errorf("%w: character %q at position %d", ErrInvalid, group[j], i+j+1)
			}
			n += int(v) * mul
			mul *= 45
		}
		if len(group) == 3 {
			if n > 0xFFFF {
				return nil, fmt.Errorf("%w: group %q at position %d exceeds 65535", ErrInvalid, group, i+1)
			}
			dst = append(dst, byte(n>>8), byte(n))
		} else {
			if n > 0xFF {
				return nil, fmt.Errorf("%w: final group %q exceeds 255", ErrInvalid, group)
			}
			dst = append(dst, byte(n))
		}
	}
	return dst, nil
}
