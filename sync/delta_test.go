package sync_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	ikdsync "github.com/ikd-field/ikd/sync"
)

func TestReferenceRoundTrip(t *testing.T) {
	var d kiosk.Descriptor
	for i := range d {
		d[i] = float32(i-64) / 300
	}
	b := ikdsync.EncodeReference(d)
	if len(b) != 256 {
		t.Fatalf("%d bytes", len(b))
	}
	got, err := ikdsync.DecodeReference(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range d {
		if diff := math.Abs(float64(got[i] - d[i])); diff > 1e-3 {
			t.Errorf("value %d: %v -> %v", i, d[i], got[i])
		}
	}
	if _, err := ikdsync.DecodeReference(b[:255]); !errors.Is(err, ikdsync.ErrMessageMalformed) {
		t.Errorf("short: %v", err)
	}
	d[7] = 1e6 // beyond half precision: infinite on the wire, refused
	if _, err := ikdsync.DecodeReference(ikdsync.EncodeReference(d)); !errors.Is(err, ikdsync.ErrMessageMalformed) {
		t.Errorf("infinite: %v", err)
	}
}

func TestDecodeDeltaPage(t *testing.T) {
	r := snapshot.Synthetic(9, 4)
	page := ikdsync.DeltaPage{Cursor: "c7", Residents: []ikdsync.ResidentChange{ikdsync.EncodeResidentChange(r),
		{NIK: string(snapshot.Synthetic(9, 5).NIK), Removed: true}},
		Officers: []ikdsync.OfficerChange{{ID: "o1", Name: "Ani", Role: "supervisor", Disabled: true}},
		Keys:     []ikdsync.KeyChange{{KeyID: "k1", PublicKey: make([]byte, 32), NotBefore: 1000, NotAfter: 2000}}}
	d, err := ikdsync.DecodeDeltaPage(page)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Residents) != 1 || len(d.Removed) != 1 || d.Cursor != "c7" || len(d.Officers) != 1 || len(d.Keys) != 1 {
		t.Fatalf("delta %+v", d)
	}
	got := d.Residents[0]
	if got.NIK != r.NIK || got.Name != r.Name || !got.BirthDate.Equal(r.BirthDate) || got.Sex != r.Sex ||
		got.Status != r.Status || len(got.References) != len(r.References) {
		t.Errorf("resident %+v, want %+v", got, r)
	}
	if snapshot.Validate(got) != nil {
		t.Errorf("decoded resident invalid: %v", snapshot.Validate(got))
	}
	if d.Officers[0] != (kiosk.Officer{ID: "o1", Name: "Ani", Role: kiosk.RoleSupervisor, Disabled: true}) ||
		d.Keys[0].NotAfter.UnixMilli() != 2000 {
		t.Errorf("officer %+v key %+v", d.Officers[0], d.Keys[0])
	}

	for name, tc := range map[string]struct {
		edit func(*ikdsync.DeltaPage)
		want string
	}{
		"NIK":       {func(p *ikdsync.DeltaPage) { p.Residents[1].NIK = "123" }, "resident 2: nik"},
		"BirthDate": {func(p *ikdsync.DeltaPage) { p.Residents[0].BirthDate = "1.1.1990" }, "resident 1"},
		"Sex":       {func(p *ikdsync.DeltaPage) { p.Residents[0].Sex = "L" }, "sex"},
		"Status":    {func(p *ikdsync.DeltaPage) { p.Residents[0].Status = "dead" }, "status"},
		"Reference": {func(p *ikdsync.DeltaPage) { p.Residents[0].References = [][]byte{{1, 2}} }, "reference 1"},
		"Role":      {func(p *ikdsync.DeltaPage) { p.Officers[0].Role = "admin" }, "officer 1"},
		"KeySize":   {func(p *ikdsync.DeltaPage) { p.Keys[0].PublicKey = []byte{1} }, "key 1"},
		"KeyWindow": {func(p *ikdsync.DeltaPage) { p.Keys[0].NotAfter = 500 }, "key 1"},
	} {
		p := page
		p.Residents = append([]ikdsync.ResidentChange(nil), page.Residents...)
		p.Officers = append([]ikdsync.OfficerChange(nil), page.Officers...)
		p.Keys = append([]ikdsync.KeyChange(nil), page.Keys...)
		tc.edit(&p)
		_, err := ikdsync.DecodeDeltaPage(p)
		if !errors.Is(err, ikdsync.ErrMessageMalformed) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want ErrMessageMalformed naming %q", name, err, tc.want)
		}
	}
}
