package sync

import (
	"bytes"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

// FuzzUnmarshalPushResponse decodes arbitrary bytes as a push answer: no panic, and what
// decodes re-encodes.
func FuzzUnmarshalPushResponse(f *testing.F) {
	for _, r := range []PushResponse{
		{Time: 1767225600000, Answers: []Answer{{Status: StatusAccepted}, {Status: StatusDuplicate},
			{Status: StatusRejected, Code: "activation.duplicate", Winner: "01890a5d-ac96-774b-bcce-b302099a8057"}}},
		{},
	} {
		b, err := Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r PushResponse
		if Unmarshal(b, &r) != nil {
			return
		}
		if _, err := Marshal(r); err != nil {
			t.Fatalf("decoded answer does not encode: %v", err)
		}
	})
}

// FuzzDecodeDeltaPage decodes arbitrary bytes as a delta page and then into the kiosk's
// types: no panic, and an accepted page's residents carry only valid references.
func FuzzDecodeDeltaPage(f *testing.F) {
	r := snapshot.Synthetic(3, 1)
	pages := []DeltaPage{
		{Time: 1767225600000, Cursor: "c2", More: true,
			Residents: []ResidentChange{EncodeResidentChange(r), {NIK: string(snapshot.Synthetic(3, 2).NIK), Removed: true}},
			Officers:  []OfficerChange{{ID: "199001012020011001", Name: "Siti", Role: "officer"}},
			Keys:      []KeyChange{{KeyID: "reg-1", PublicKey: make([]byte, 32), NotBefore: 1, NotAfter: 2}}},
		{Cursor: ""},
	}
	for _, p := range pages {
		b, err := Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p DeltaPage
		if Unmarshal(b, &p) != nil {
			return
		}
		d, err := DecodeDeltaPage(p)
		if err != nil {
			return
		}
		for _, r := range d.Residents {
			for _, ref := range r.References {
				if ref.Validate() != nil {
					t.Fatalf("accepted a reference that is not finite")
				}
			}
		}
	})
}

// FuzzOpenPushRequest decodes arbitrary bytes as a push request, as the registry does, and
// opens every record in it: no panic, and a record that opens names the kiosk that signed it.
func FuzzOpenPushRequest(f *testing.F) {
	pub, key, err := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{9}, 64)))
	if err != nil {
		f.Fatal(err)
	}
	s, err := NewSealer("kiosk-fuzz", key)
	if err != nil {
		f.Fatal(err)
	}
	r := snapshot.Synthetic(3, 1)
	env, err := s.Seal(kiosk.KindDeactivation, "rec-1", kiosk.Deactivation{ID: "rec-1", NIK: r.NIK, OfficerID: "off1",
		KioskID: "kiosk-fuzz", Reason: "HP hilang", FaceBand: kiosk.BandMatch, ConfirmedAt: time.UnixMilli(1767225600000)})
	if err != nil {
		f.Fatal(err)
	}
	b, err := Marshal(PushRequest{Records: [][]byte{env, env[:40]}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var req PushRequest
		if Unmarshal(b, &req) != nil {
			return
		}
		for _, e := range req.Records {
			rec, err := Open(e, pub)
			if err == nil && rec.KioskID != "kiosk-fuzz" {
				t.Fatalf("opened a record of %q", rec.KioskID)
			}
		}
	})
}
