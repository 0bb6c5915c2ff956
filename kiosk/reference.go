package kiosk

import "crypto/sha256"

// crockford is Crockford's base32 alphabet: no I, L, O or U, so a reference read aloud or
// typed back cannot be confused with 1, 0 or a rude word.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ShortRef is the reference of record id that an officer reads aloud and that the receipt,
// the window and the registry's e-mail all show: the first 40 bits of SHA-256 of the id in
// Crockford base32, grouped "XXXX-XXXX". It is derived, not stored, so every party that knows
// the record id agrees on it; 40 bits make a collision between a counter's records unlikely,
// and support looks the full record id up anyway.
func ShortRef(recordID string) string {
	sum := sha256.Sum256([]byte(recordID))
	var v uint64
	for _, b := range sum[:5] {
		v = v<<8 | uint64(b)
	}
	out := make([]byte, 0, 9)
	for i := 7; i >= 0; i-- {
		if i == 3 {
			out = append(out, '-')
		}
		out = append(out, crockford[(v>>(5*uint(i)))&31])
	}
	return string(out)
}
