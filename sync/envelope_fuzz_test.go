package sync

import (
	"testing"

	"github.com/ikd-field/ikd/kiosk"
)

// FuzzOpen feeds arbitrary bytes to Open: it must never panic, and what it accepts must be a
// complete record from the trusted kiosk.
func FuzzOpen(f *testing.F) {
	for _, name := range []string{goldenEnvelope, goldenReissue} {
		golden := readGoldenHex(f, name)
		f.Add(golden)
		for _, n := range []int{len(golden) - 1, len(golden) - 64, len(golden) / 2, 2, 0} {
			f.Add(golden[:n])
		}
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
		payloads := 0
		for _, set := range []bool{rec.Activation != nil, rec.Deactivation != nil, rec.Checkpoint != nil, rec.Reissue != nil} {
			if set {
				payloads++
			}
		}
		if rec.KioskID != kioskID || rec.ID == "" || payloads != 1 {
			t.Fatalf("accepted an incomplete record: %+v", rec)
		}
	})
}
