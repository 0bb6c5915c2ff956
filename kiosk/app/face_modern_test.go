package app

import (
	"context"
	"errors"
	"image"
	"log/slog"
	"slices"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face"
)

// A supervisor may tighten the modern thresholds but not loosen them, and no threshold
// setting lets an unverified model decide where the operator did not.
func TestStricterThresholdsModern(t *testing.T) {
	base := kiosk.FaceThresholds{Match: 0.25, NoMatch: 0.55, Modern: kiosk.ModernThresholds{Match: 0.56, NoMatch: 0.24}}
	with := func(m kiosk.ModernThresholds) kiosk.FaceThresholds { t := base; t.Modern = m; return t }
	for _, tc := range []struct {
		name string
		t    kiosk.FaceThresholds
		ok   bool
	}{
		{"Same", base, true},
		{"HigherMatch", with(kiosk.ModernThresholds{Match: 0.6, NoMatch: 0.24}), true},
		{"HigherNoMatch", with(kiosk.ModernThresholds{Match: 0.56, NoMatch: 0.3}), true},
		{"LowerMatch", with(kiosk.ModernThresholds{Match: 0.5, NoMatch: 0.24}), false},
		{"LowerNoMatch", with(kiosk.ModernThresholds{Match: 0.56, NoMatch: 0.2}), false},
		{"ModernOff", with(kiosk.ModernThresholds{}), false},
		{"AllowUnverified", with(kiosk.ModernThresholds{Match: 0.56, NoMatch: 0.24, AllowUnverified: true}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := StricterThresholds(base, tc.t)
			if (err == nil) != tc.ok {
				t.Errorf("err %v, want ok %t", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrThresholdsLooser) {
				t.Errorf("err %v is not ErrThresholdsLooser", err)
			}
		})
	}
}

// fakeLookup serves residents by NIK and counts the look-ups.
type fakeLookup struct {
	residents map[kiosk.NIK]kiosk.Resident
	calls     int
}

func (f *fakeLookup) ResidentByNIK(_ context.Context, nik kiosk.NIK) (kiosk.Resident, error) {
	f.calls++
	r, ok := f.residents[nik]
	if !ok {
		return kiosk.Resident{}, errors.New("not found")
	}
	return r, nil
}

// A resident without a photo has no template and is looked up once; a store error reaches
// the caller; a reset forgets what was cached.
func TestPhotoTemplatesWithoutPhotos(t *testing.T) {
	const nik kiosk.NIK = "3201014101900001"
	lk := &fakeLookup{residents: map[kiosk.NIK]kiosk.Resident{nik: {NIK: nik}}}
	pt := &photoTemplates{p: &FacePipeline{}}
	m := face.NewModern(nil, face.ModernModel{Engine: "arcface112:test"})
	if e, err := pt.Template(context.Background(), m, nik); e != nil || err != nil {
		t.Fatalf("before the snapshot is known: %v %v", e, err)
	}
	pt.reset(lk)
	for range 2 {
		if e, err := pt.Template(context.Background(), m, nik); e != nil || err != nil {
			t.Fatalf("resident without a photo: %v %v", e, err)
		}
	}
	if lk.calls != 1 {
		t.Errorf("%d look-ups, want 1 (cached)", lk.calls)
	}
	if _, err := pt.Template(context.Background(), m, "3201014101900002"); err == nil {
		t.Error("a look-up error was swallowed")
	}
	pt.reset(lk)
	if _, err := pt.Template(context.Background(), m, nik); err != nil || lk.calls != 3 {
		t.Errorf("after reset: %v, %d look-ups", err, lk.calls)
	}
}

// A template the snapshot carries for the engine is used as is, without analysing the photo;
// one of another engine or version is never used, and the photo decides instead.
func TestPhotoTemplatesPreferTheSnapshots(t *testing.T) {
	const nik kiosk.NIK = "3201014101900001"
	m := face.NewModern(nil, face.ModernModel{Engine: "arcface112:test"})
	ours, err := kiosk.NewTemplate("arcface112:test", []float32{0.5, -0.5})
	if err != nil {
		t.Fatal(err)
	}
	other, err := kiosk.NewTemplate("arcface112:other", []float32{1, 0})
	if err != nil {
		t.Fatal(err)
	}
	notAPhoto := []byte("not a JPEG") // analysing it fails, so a template that came from it shows
	for _, c := range []struct {
		name      string
		templates []kiosk.Template
		want      face.Embedding
	}{
		{"the engine's own", []kiosk.Template{other, ours}, face.Embedding{0.5, -0.5}},
		{"another engine's only", []kiosk.Template{other}, nil},
		{"the engine's own, all zeros", []kiosk.Template{{Engine: "arcface112:test", Half: make([]byte, 4)}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			lk := &fakeLookup{residents: map[kiosk.NIK]kiosk.Resident{nik: {NIK: nik, Photo: notAPhoto, Templates: c.templates}}}
			pt := &photoTemplates{p: &FacePipeline{logger: slog.New(slog.DiscardHandler)}}
			pt.reset(lk)
			e, err := pt.Template(context.Background(), m, nik)
			if err != nil || !slices.Equal(e, c.want) {
				t.Errorf("template %v, %v; want %v", e, err, c.want)
			}
		})
	}
}

// framed puts a chip in the middle of a grey picture twice its size.
func TestFramed(t *testing.T) {
	chip := image.NewRGBA(image.Rect(0, 0, 10, 8))
	for i := range chip.Pix {
		chip.Pix[i] = 255
	}
	f := framed(chip)
	if f.Bounds() != image.Rect(0, 0, 20, 16) {
		t.Fatalf("bounds %v", f.Bounds())
	}
	if r, _, _, _ := f.At(10, 8).RGBA(); r>>8 != 255 {
		t.Errorf("centre %d, want the chip", r>>8)
	}
	if r, _, _, _ := f.At(1, 1).RGBA(); r>>8 != 128 {
		t.Errorf("corner %d, want grey", r>>8)
	}
}

// The pass over the snapshot indexes the templates of the pipeline's engine and says which
// residents it could not (no template of the engine, or one that cannot be compared), so that
// their photos give one; the photos' templates join the same index.
func TestModernPassThenPhotos(t *testing.T) {
	const engine = "arcface112-crop2:test"
	tmpl := func(engine string, v ...float32) []kiosk.Template {
		tp, err := kiosk.NewTemplate(engine, v)
		if err != nil {
			t.Fatal(err)
		}
		return []kiosk.Template{tp}
	}
	mp := &modernPass{engine: engine, n: 5, log: slog.New(slog.DiscardHandler)}
	for _, c := range []struct {
		r    kiosk.Resident
		want bool
	}{
		{kiosk.Resident{NIK: "3201014101900001", Templates: tmpl(engine, 1, 0)}, true},
		{kiosk.Resident{NIK: "3201014101900002", Templates: tmpl("arcface112-crop1:test", 0, 1)}, false}, // another version
		{kiosk.Resident{NIK: "3201014101900003"}, false},
		{kiosk.Resident{NIK: "3201014101900004", Templates: tmpl(engine, 1, 0, 0)}, false}, // another length
		{kiosk.Resident{NIK: "3201014101900005", Templates: tmpl(engine, 0, 0)}, false},    // all zeros
		{kiosk.Resident{NIK: "3201014101900006", Templates: tmpl(engine, 0.6, 0.8)}, true},
	} {
		if got := mp.add(c.r); got != c.want {
			t.Errorf("%s: added %v, want %v", c.r.NIK, got, c.want)
		}
	}
	photo := func(_ context.Context, nik kiosk.NIK) (face.Embedding, error) { return face.Embedding{0, 1}, nil }
	ix, err := modernIndexOf(context.Background(), mp.b, []kiosk.NIK{"3201014101900002"}, photo)
	if err != nil || ix.Len() != 3 {
		t.Fatalf("index of %v templates, %v; want 3", ix, err)
	}
	hits, err := ix.Search([]float32{0, 1}, 0.7, 5)
	if err != nil || len(hits) != 2 || hits[0].Key != "3201014101900002" || hits[1].Key != "3201014101900006" {
		t.Errorf("hits %v, %v", hits, err)
	}
}

// The modern index holds the residents with a template, none for those without; an error
// of the source stops the build and names the resident.
func TestModernIndexOf(t *testing.T) {
	const a, b, c kiosk.NIK = "3201014101900001", "3201014101900002", "3201014101900003"
	temps := map[kiosk.NIK]face.Embedding{a: {1, 0}, c: {0, 1}}
	embed := func(_ context.Context, nik kiosk.NIK) (face.Embedding, error) {
		if nik == "3201014101900999" {
			return nil, errors.New("store unreadable")
		}
		return temps[nik], nil
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		niks    []kiosk.NIK
		wantLen int
		wantErr bool
		top     string // best hit for the probe (0, 1)
	}{
		{"two of three have templates", context.Background(), []kiosk.NIK{a, b, c}, 2, false, string(c)},
		{"none has one: no index", context.Background(), []kiosk.NIK{b}, 0, false, ""},
		{"a source error stops the build", context.Background(), []kiosk.NIK{a, "3201014101900999"}, 0, true, ""},
		{"cancelled", cancelled, []kiosk.NIK{a}, 0, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix, err := modernIndexOf(tc.ctx, nil, tc.niks, embed)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %t", err, tc.wantErr)
			}
			if ix == nil {
				if tc.wantLen != 0 {
					t.Fatalf("no index, want %d templates", tc.wantLen)
				}
				return
			}
			if ix.Len() != tc.wantLen {
				t.Errorf("%d templates, want %d", ix.Len(), tc.wantLen)
			}
			hits, err := ix.Search([]float32{0, 1}, 0.5, 5)
			if err != nil || len(hits) != 1 || hits[0].Key != tc.top {
				t.Errorf("search: %v %v, want %s", hits, err, tc.top)
			}
		})
	}
}
