package sync

import (
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
)

// FuzzOpen feeds arbitrary bytes to Open: it must never panic, and what it accepts must be a
// complete record from the trusted kiosk.
func FuzzOpen(f *testing.F) {
	b, err := os.ReadFile(goldenPath(f, goldenEnvelope))
	if err != nil {
		f.Fatal(err)
	}
	golden, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	for _, n := range []int{len(golden) - 1, len(golden) - 64, len(golden) / 2, 2, 0} {
		f.Add(golden[:n])
	}
	d := typicalDeactivation()
	s, err := NewSealer(kioskID, devKey)
	if err != nil {
		f.Fatal(err)
	}
	env, err := s.Seal(kiosk.KindDeactivation, d.ID, d)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(env)
	pub := devPub()
	f.Fuzz(func(t *testing.T, envelope []byte) {
		rec, err := Open(envelope, pub)
		if err != nil {
			return
		}
		if rec.KioskID != kioskID || rec.ID == "" || (rec.Activation == nil) == (rec.Deactivation == nil) {
			t.Fatalf("accepted an incomplete record: %+v", rec)
		}
	})
}
