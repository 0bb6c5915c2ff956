package face

import (
	"context"
	"errors"
	"image"
	"math"
	"slices"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face/match"
)

var testThresholds = kiosk.FaceThresholds{Match: 0.3, NoMatch: 0.5}

// The Verifier only measures: its verdict is kiosk.DecideFace's on the scorer's score.
func TestVerifierHandsTheScoreToDecideFace(t *testing.T) {
	var a, b Descriptor
	b[0], b[1] = 3, 4
	for _, tc := range []struct {
		name  string
		score match.Score
		model kiosk.ModelClass
	}{
		{"MatchPublished", 0.2, kiosk.ModelPublished},
		{"MatchStandIn", 0.2, kiosk.ModelStandIn},
		{"Uncertain", 0.4, kiosk.ModelConverted},
		{"NoMatch", 0.6, kiosk.ModelUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := &fakeScorer{score: tc.score}
			v, err := NewVerifier(fs, testThresholds, tc.model, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := kiosk.Resident{NIK: "3201014101900001", References: []kiosk.Descriptor{b}}
			vd, err := v.Verify([]Descriptor{a, a}, r)
			if err != nil {
				t.Fatal(err)
			}
			want := kiosk.DecideFace(testThresholds, r.NIK, kiosk.FaceEvidence{Score: float64(tc.score), Model: tc.model, Live: a})
			if !slices.Equal(vd.OtherNIKs, want.OtherNIKs) || vd.Band != want.Band || vd.Capped != want.Capped || vd.Score != want.Score {
				t.Fatalf("verdict %+v, want %+v", vd.FaceResult, want)
			}
			if vd.Distance != 5 || fs.live != 2 || fs.ref != 1 {
				t.Fatalf("distance %v, scorer saw %d live and %d refs", vd.Distance, fs.live, fs.ref)
			}
		})
	}
}

// With an index, another resident who shares the live face is listed for the officer.
func TestVerifierSearchesTheSnapshot(t *testing.T) {
	cal, err := match.Default()
	if err != nil {
		t.Fatal(err)
	}
	refs, err := match.SyntheticReferences(cal, 2, 7)
	if err != nil {
		t.Fatal(err)
	}
	self, other := refs[0].Descriptor, refs[1].Descriptor
	var stranger Descriptor // far from everyone: the opposite direction of self
	for i, x := range self {
		stranger[i] = -x
	}
	resident := kiosk.Resident{NIK: "3201014101900001", References: []kiosk.Descriptor{self}}
	index, err := match.NewIndex(cal, []match.Reference{
		{Key: "3201014101900001", Descriptor: self},
		{Key: "3174052508850123", Descriptor: self}, // a duplicate record or an impostor's claim
		{Key: "3201012508850123", Descriptor: other},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		live   Descriptor
		band   kiosk.Band
		others []kiosk.NIK
	}{
		{"SameFace", self, kiosk.BandMatch, []kiosk.NIK{"3174052508850123"}},
		{"Stranger", stranger, kiosk.BandNoMatch, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewVerifier(cal, cal.Thresholds, kiosk.ModelPublished, index)
			if err != nil {
				t.Fatal(err)
			}
			vd, err := v.Verify([]Descriptor{tc.live}, resident)
			if err != nil {
				t.Fatal(err)
			}
			if vd.Band != tc.band || !slices.Equal(vd.OtherNIKs, tc.others) {
				t.Fatalf("band %s others %v, want %s %v (score %.3f)", vd.Band, vd.OtherNIKs, tc.band, tc.others, vd.Score)
			}
		})
	}
}

func TestVerifierErrors(t *testing.T) {
	if _, err := NewVerifier(nil, testThresholds, kiosk.ModelPublished, nil); err == nil {
		t.Error("nil scorer accepted")
	}
	if _, err := NewVerifier(&fakeScorer{}, kiosk.FaceThresholds{Match: 0.6, NoMatch: 0.5}, kiosk.ModelPublished, nil); !errors.Is(err, kiosk.ErrBadThresholds) {
		t.Errorf("crossed thresholds: %v", err)
	}
	v, err := NewVerifier(&fakeScorer{err: errors.New("boom")}, testThresholds, kiosk.ModelPublished, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(nil, kiosk.Resident{References: []kiosk.Descriptor{{}}}); !errors.Is(err, match.ErrNoDescriptors) {
		t.Errorf("no live descriptors: %v", err)
	}
	if _, err := v.Verify([]Descriptor{{}}, kiosk.Resident{}); !errors.Is(err, match.ErrNoDescriptors) {
		t.Errorf("no references: %v", err)
	}
	if _, err := v.Verify([]Descriptor{{}}, kiosk.Resident{References: []kiosk.Descriptor{{}}}); err == nil {
		t.Error("scorer error swallowed")
	}
}

func TestMean(t *testing.T) {
	var a, b Descriptor
	a[0], b[0] = 1, 3
	if m := Mean([]Descriptor{a, b}); m[0] != 2 || m[1] != 0 {
		t.Fatalf("mean %v", m[:2])
	}
	if m := Mean(nil); m != (Descriptor{}) {
		t.Fatal("mean of nothing not zero")
	}
}

// fakeTemplates serves fixed templates by NIK.
type fakeTemplates map[kiosk.NIK]Embedding

func (f fakeTemplates) Template(_ context.Context, _ *Modern, nik kiosk.NIK) (Embedding, error) {
	if e, ok := f[nik]; ok {
		return e, nil
	}
	if nik == "3201014101900999" {
		return nil, errors.New("store unreadable")
	}
	return nil, nil
}

// With the modern engine, the live templates are compared with the resident's and the
// verdict is DecideFace's with that evidence; a resident without a template leaves it NaN.
func TestVerifierWithTheModernEngine(t *testing.T) {
	th := testThresholds
	th.Modern = kiosk.ModernThresholds{Match: 0.5, NoMatch: 0.2}
	v, err := NewVerifier(&fakeScorer{score: 0.4}, th, kiosk.ModelPublished, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := NewModern(fakeNet{}, ModernModel{Engine: "arcface112:test", Class: kiosk.ModelPublished, Licence: kiosk.LicenceCleared})
	const claimed, bare, broken kiosk.NIK = "3201014101900001", "3201014101900002", "3201014101900999"
	v = v.WithModern(m, fakeTemplates{claimed: {0.8, 0.6}})
	obs := []Observation{{Embedding: Embedding{1, 0}}, {Embedding: Embedding{0.6, 0.8}}, {}}
	ref := []kiosk.Descriptor{{}}
	vd, err := v.VerifyObservations(context.Background(), obs, kiosk.Resident{NIK: claimed, References: ref})
	if err != nil {
		t.Fatal(err)
	}
	// mean of (1,0) and (0.6,0.8) is along (0.8,0.4)/|.|: cosine with (0.8,0.6) ≈ 0.984.
	if vd.Modern == nil || vd.Modern.Engine != "arcface112:test" || !(vd.Modern.Similarity > 0.98) || vd.Band != kiosk.BandMatch || vd.DecidedBy != kiosk.EngineModern {
		t.Errorf("verdict %+v modern %+v", vd.FaceResult, vd.Modern)
	}
	vd, err = v.VerifyObservations(context.Background(), obs, kiosk.Resident{NIK: bare, References: ref})
	if err != nil {
		t.Fatal(err)
	}
	if vd.Modern == nil || !math.IsNaN(vd.Modern.Similarity) || vd.DecidedBy != kiosk.EngineDlib || vd.Band != kiosk.BandUncertain {
		t.Errorf("resident without a template: %+v modern %+v", vd.FaceResult, vd.Modern)
	}
	if _, err := v.VerifyObservations(context.Background(), obs, kiosk.Resident{NIK: broken, References: ref}); err == nil {
		t.Error("a template source error was swallowed")
	}
	// A capture's observation carries its frame: the engine describes it at verification.
	frame := image.NewRGBA(image.Rect(0, 0, 300, 300))
	vm := v.WithModern(NewModern(fakeNet{out: []float32{8, 6}}, m.Model()), fakeTemplates{claimed: {0.8, 0.6}})
	vd, err = vm.VerifyObservations(context.Background(), []Observation{{frame: frame, Shape: shape68(2, complex(40, 30))}},
		kiosk.Resident{NIK: claimed, References: ref})
	if err != nil {
		t.Fatal(err)
	}
	if vd.Modern == nil || math.Abs(vd.Modern.Similarity-1) > 1e-6 {
		t.Errorf("the frame was not described: %+v", vd.Modern)
	}
}

// With the snapshot's modern index, the 1:N check also finds the residents the live face
// matches by the modern engine alone; DecideFace lists them only where that engine decides.
func TestVerifierSearchesTheModernIndex(t *testing.T) {
	const claimed, twin, stranger kiosk.NIK = "3201014101900001", "3201014101900002", "3201014101900003"
	live, twinT, strangerT := Embedding{1, 0}, Embedding{0.995, 0.0999}, Embedding{0, 1}
	b := match.NewTemplateIndexBuilder(2, 3)
	for nik, e := range map[kiosk.NIK]Embedding{claimed: live, twin: twinT, stranger: strangerT} {
		if err := b.Add(string(nik), e); err != nil {
			t.Fatal(err)
		}
	}
	ix, err := b.Index()
	if err != nil {
		t.Fatal(err)
	}
	th := testThresholds
	th.Modern = kiosk.ModernThresholds{Match: 0.5, NoMatch: 0.2}
	all := fakeTemplates{claimed: live, twin: twinT, stranger: strangerT}
	for _, tc := range []struct {
		name      string
		licence   kiosk.Licence
		index     *match.TemplateIndex
		templates fakeTemplates
		want      []kiosk.NIK
	}{
		{"modern decides: the twin is found", kiosk.LicenceCleared, ix, all, []kiosk.NIK{twin}},
		{"no modern index: dlib's search alone", kiosk.LicenceCleared, nil, all, nil},
		{"modern may not decide: its hits are not listed", kiosk.LicenceUnverified, ix, all, nil},
		{"a hit without a template keeps the index's similarity", kiosk.LicenceCleared, ix, fakeTemplates{claimed: live}, []kiosk.NIK{twin}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewVerifier(&fakeScorer{score: 0.4}, th, kiosk.ModelPublished, nil)
			if err != nil {
				t.Fatal(err)
			}
			m := NewModern(fakeNet{}, ModernModel{Engine: "arcface112:test", Class: kiosk.ModelPublished, Licence: tc.licence})
			v = v.WithModern(m, tc.templates).WithModernIndex(tc.index)
			vd, err := v.VerifyObservations(context.Background(), []Observation{{Embedding: live}},
				kiosk.Resident{NIK: claimed, References: []kiosk.Descriptor{{}}})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(vd.OtherNIKs, tc.want) {
				t.Errorf("other NIKs %v, want %v (band %s by %s)", vd.OtherNIKs, tc.want, vd.Band, vd.DecidedBy)
			}
		})
	}
}
