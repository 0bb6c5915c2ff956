package store

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

// FuzzDecodeAnchor: the anchor file sits beside the database where anyone with the disk can
// write it. Whatever it holds must decode to an error or to a state that encodes back to the
// same bytes (only this kiosk's key makes a valid seal), never to a panic.
func FuzzDecodeAnchor(f *testing.F) {
	keys, err := newKeyring(bytes.Repeat([]byte{7}, keySize))
	if err != nil {
		f.Fatal(err)
	}
	good := keys.encodeAnchor(anchorState{auditSeq: 12, auditHash: bytes.Repeat([]byte{1}, sha256.Size), outboxSeq: 3})
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(append(bytes.Clone(good), 0))
	f.Add([]byte{})
	f.Add(anchorMagic)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := keys.decodeAnchor(b)
		if err != nil {
			return
		}
		if again := keys.encodeAnchor(a); !bytes.Equal(again, b) {
			t.Fatalf("decoded %+v from %x, which encodes to %x", a, b, again)
		}
	})
}
