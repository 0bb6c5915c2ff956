package sync_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	ikdsync "github.com/ikd-field/ikd/sync"
)

func TestDeltaRevocations(t *testing.T) {
	r := snapshot.Synthetic(3, 0)
	r.Revocations = kiosk.Revocations{DeactivatedAt: time.UnixMilli(1_790_000_000_000).UTC(),
		Registrations: []kiosk.RevokedRegistration{{ID: "reg-1", At: time.UnixMilli(1_790_000_000_000).UTC(), Deactivated: true}}}
	page := ikdsync.DeltaPage{Time: 1_790_000_100_000, Cursor: "c1", Residents: []ikdsync.ResidentChange{ikdsync.EncodeResidentChange(r)}}
	back, d := wireRoundTrip(t, page)
	if !reflect.DeepEqual(d.Residents[0].Revocations, r.Revocations) {
		t.Errorf("revocations %+v, want %+v", d.Residents[0].Revocations, r.Revocations)
	}
	if !d.AsOf.Equal(time.UnixMilli(page.Time)) {
		t.Errorf("as of %v on the last page", d.AsOf)
	}
	back.More = true
	if d, _ := ikdsync.DecodeDeltaPage(back); !d.AsOf.IsZero() {
		t.Errorf("as of %v on a page with more to come", d.AsOf)
	}

	many := make([]ikdsync.RevokedRegistration, ikdsync.MaxRevoked+1)
	for i := range many {
		many[i] = ikdsync.RevokedRegistration{ID: "r", At: 1}
	}
	for _, c := range []struct {
		name string
		rv   ikdsync.Revocations
		want string
	}{
		{"negative time", ikdsync.Revocations{DeactivatedAt: -1}, "deactivated at"},
		{"empty id", ikdsync.Revocations{Registrations: []ikdsync.RevokedRegistration{{At: 5}}}, "revoked registration 1"},
		{"long id", ikdsync.Revocations{Registrations: []ikdsync.RevokedRegistration{{ID: strings.Repeat("x", 65), At: 5}}}, "revoked registration 1"},
		{"no time", ikdsync.Revocations{Registrations: []ikdsync.RevokedRegistration{{ID: "r"}}}, "revoked registration 1"},
		{"too many", ikdsync.Revocations{Registrations: many}, "at most"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rc := ikdsync.EncodeResidentChange(snapshot.Synthetic(3, 0))
			rc.Revocations = &c.rv
			_, err := ikdsync.DecodeDeltaPage(ikdsync.DeltaPage{Residents: []ikdsync.ResidentChange{rc}})
			if !errors.Is(err, ikdsync.ErrMessageMalformed) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want malformed mentioning %q", err, c.want)
			}
		})
	}
}

// Templates ride with the resident change; every way one can be unusable is refused as a
// malformed page, so a kiosk never stores a template it cannot compare.
func TestDeltaTemplates(t *testing.T) {
	r := snapshot.Synthetic(4, 0)
	tp, err := kiosk.NewTemplate("arcface112:0123456789abcdef", []float32{0.5, -0.25})
	if err != nil {
		t.Fatal(err)
	}
	r.Templates = []kiosk.Template{tp}
	_, d := wireRoundTrip(t, ikdsync.DeltaPage{Time: 1, Cursor: "c", Residents: []ikdsync.ResidentChange{ikdsync.EncodeResidentChange(r)}})
	if !reflect.DeepEqual(d.Residents[0].Templates, r.Templates) {
		t.Errorf("templates %+v, want %+v", d.Residents[0].Templates, r.Templates)
	}

	good := ikdsync.EngineTemplate{Engine: "e", Half: []byte{0, 0x3c}}
	for _, c := range []struct {
		name string
		ts   []ikdsync.EngineTemplate
		want string
	}{
		{"too many", []ikdsync.EngineTemplate{good, {Engine: "f", Half: good.Half}, {Engine: "g", Half: good.Half}, {Engine: "h", Half: good.Half}, {Engine: "i", Half: good.Half}}, "at most 4"},
		{"same engine twice", []ikdsync.EngineTemplate{good, good}, "face template 2: a second template of e"},
		{"no engine", []ikdsync.EngineTemplate{{Half: good.Half}}, "face template 1"},
		{"odd length", []ikdsync.EngineTemplate{{Engine: "e", Half: []byte{1}}}, "1 bytes"},
		{"NaN", []ikdsync.EngineTemplate{{Engine: "e", Half: []byte{0, 0x7e}}}, "NaN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rc := ikdsync.EncodeResidentChange(snapshot.Synthetic(4, 0))
			rc.Templates = c.ts
			_, err := ikdsync.DecodeDeltaPage(ikdsync.DeltaPage{Residents: []ikdsync.ResidentChange{rc}})
			if !errors.Is(err, ikdsync.ErrMessageMalformed) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want malformed mentioning %q", err, c.want)
			}
		})
	}
}

// wireRoundTrip sends page through CBOR and decodes it as a kiosk does.
func wireRoundTrip(t *testing.T, page ikdsync.DeltaPage) (ikdsync.DeltaPage, kiosk.Delta) {
	t.Helper()
	b, err := ikdsync.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	var back ikdsync.DeltaPage
	if err := ikdsync.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	d, err := ikdsync.DecodeDeltaPage(back)
	if err != nil {
		t.Fatal(err)
	}
	return back, d
}
