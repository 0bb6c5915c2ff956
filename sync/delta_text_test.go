package sync_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/safetext"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// A resident whose text could be spoofed on the officer's screen is not stored: it is
// refused and removed, and the rest of the page is applied.
func TestDecodeDeltaPageRefusesUnsafeText(t *testing.T) {
	for _, tt := range []struct {
		name  string
		edit  func(*ikdsync.ResidentChange)
		class safetext.Class
	}{
		{"RLO in name", func(rc *ikdsync.ResidentChange) { rc.Name = "Siti \u202Ehanima" }, safetext.Bidi},
		{"zero width in name", func(rc *ikdsync.ResidentChange) { rc.Name = "Si\u200Bti" }, safetext.Invisible},
		{"NUL in birth place", func(rc *ikdsync.ResidentChange) { rc.BirthPlace = "Bogor\x00" }, safetext.Control},
		{"invalid UTF-8 in address", func(rc *ikdsync.ResidentChange) { rc.Address = "Jl. \xff" }, safetext.InvalidUTF8},
		{"LRI in kecamatan", func(rc *ikdsync.ResidentChange) { rc.Kecamatan = "\u2066Cibinong" }, safetext.Bidi},
	} {
		t.Run(tt.name, func(t *testing.T) {
			good, bad := snapshot.Synthetic(8, 0), snapshot.Synthetic(8, 1)
			good.Name = "De\u0301sire\u0301e"
			rc := ikdsync.EncodeResidentChange(bad)
			tt.edit(&rc)
			d, err := ikdsync.DecodeDeltaPage(ikdsync.DeltaPage{Cursor: "c1",
				Residents: []ikdsync.ResidentChange{ikdsync.EncodeResidentChange(good), rc}})
			if err != nil {
				t.Fatalf("the page fails: %v", err)
			}
			if len(d.Residents) != 1 || d.Residents[0].NIK != good.NIK || d.Residents[0].Name != "Désirée" {
				t.Fatalf("residents %+v, want only the good one, in NFC", d.Residents)
			}
			if !slices.Equal(d.Removed, []kiosk.NIK{bad.NIK}) || len(d.Refused) != 1 || d.Refused[0].NIK != bad.NIK {
				t.Fatalf("removed %v refused %+v, want the bad resident in both", d.Removed, d.Refused)
			}
			if e, ok := errors.AsType[*safetext.Error](d.Refused[0].Err); !ok || e.Class != tt.class {
				t.Errorf("reason %v, want class %v", d.Refused[0].Err, tt.class)
			}
			if err := snapshot.Validate(d.Residents[0]); err != nil {
				t.Errorf("the good resident fails the store's check: %v", err)
			}
		})
	}
}

func TestPullRefusesUnsafeResidentAndGoesOn(t *testing.T) {
	st := newMemStore(0)
	good, bad := snapshot.Synthetic(8, 2), snapshot.Synthetic(8, 3)
	bad.Name = "Budi \u202Eitnaws"
	reg := &fakeRegistry{push: acceptAll(t0), changes: func(string, int) (ikdsync.DeltaPage, error) {
		return ikdsync.DeltaPage{Time: 10, Cursor: "c9", Residents: []ikdsync.ResidentChange{
			ikdsync.EncodeResidentChange(bad), ikdsync.EncodeResidentChange(good)}}, nil
	}}
	var log bytes.Buffer
	e := newEngine(t, st, reg, func(c *ikdsync.EngineConfig) { c.Log = slog.New(slog.NewTextHandler(&log, nil)) })
	if _, err := e.Round(context.Background()); err != nil {
		t.Fatalf("the round fails: %v", err)
	}
	if st.cursor != "c9" || len(st.deltas) != 1 || len(st.deltas[0].Residents) != 1 ||
		!slices.Equal(st.deltas[0].Removed, []kiosk.NIK{bad.NIK}) {
		t.Fatalf("cursor %q deltas %+v", st.cursor, st.deltas)
	}
	out := log.String()
	if !strings.Contains(out, "resident refused") || !strings.Contains(out, bad.NIK.Masked()) ||
		!strings.Contains(out, "U+202E RIGHT-TO-LEFT OVERRIDE") {
		t.Errorf("log does not give the refused resident and the reason:\n%s", out)
	}
	if strings.Contains(out, string(bad.NIK)) || strings.Contains(out, "itnaws") {
		t.Errorf("log holds the NIK or the name:\n%s", out)
	}
}
