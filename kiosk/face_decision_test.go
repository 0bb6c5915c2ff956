package kiosk

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
)

func TestDecideFace(t *testing.T) {
	th := FaceThresholds{Match: 0.3, NoMatch: 0.5}
	const claimed, other, third NIK = "3201010101900001", "3201010101900002", "3201010101900003"
	scores := []struct {
		name string
		s    float64
		band Band // before the model cap
	}{
		{"WellBelowMatch", 0.1, BandMatch},
		{"JustBelowMatch", 0.2999, BandMatch},
		{"AtMatch", 0.3, BandUncertain},
		{"Between", 0.4, BandUncertain},
		{"AtNoMatch", 0.5, BandUncertain},
		{"JustAboveNoMatch", 0.5001, BandNoMatch},
		{"NaN", math.NaN(), BandUncertain},
	}
	models := []struct {
		class    ModelClass
		mayMatch bool
	}{
		{ModelPublished, true}, {ModelConverted, true}, {ModelDevelopment, false},
		{ModelStandIn, false}, {ModelUnknown, false}, {"unset", false},
	}
	hits := []struct {
		name string
		hits []FaceHit
		want []NIK
	}{
		{"NoSearch", nil, nil},
		{"OnlyTheClaimedResident", []FaceHit{{NIK: claimed, Score: 0.1}}, nil},
		{"AnotherResident", []FaceHit{{NIK: claimed, Score: 0.1}, {NIK: other, Score: 0.2}}, []NIK{other}},
		{"AnotherAboveMatch", []FaceHit{{NIK: other, Score: 0.3}}, nil},
		{"TwoOthersOneTwice", []FaceHit{{NIK: third, Score: 0.1}, {NIK: other, Score: 0.2}, {NIK: third, Score: 0.25}}, []NIK{third, other}},
	}
	for _, sc := range scores {
		for _, m := range models {
			for _, h := range hits {
				t.Run(fmt.Sprintf("%s/%s/%s", sc.name, m.class, h.name), func(t *testing.T) {
					live := Descriptor{1: 0.5}
					got := DecideFace(th, claimed, FaceEvidence{Score: sc.s, Model: m.class, Hits: h.hits, Live: live})
					wantBand, wantCapped := sc.band, false
					if sc.band == BandMatch && !m.mayMatch {
						wantBand, wantCapped = BandUncertain, true
					}
					if got.Band != wantBand || got.Capped != wantCapped {
						t.Errorf("band %s capped %t, want %s %t", got.Band, got.Capped, wantBand, wantCapped)
					}
					if !slices.Equal(got.OtherNIKs, h.want) {
						t.Errorf("other NIKs %v, want %v", got.OtherNIKs, h.want)
					}
					if got.Live != live || !(got.Score == sc.s || math.IsNaN(sc.s) && math.IsNaN(got.Score)) {
						t.Errorf("result %+v does not carry the evidence", got)
					}
				})
			}
		}
	}
}

// The raw-distance guard turns a match whose descriptors lie far apart into uncertain, and
// changes nothing else.
func TestDecideFaceDistanceGuard(t *testing.T) {
	guarded := FaceThresholds{Match: 0.3, NoMatch: 0.5, MatchMaxDistance: 0.45}
	open := FaceThresholds{Match: 0.3, NoMatch: 0.5}
	for _, tc := range []struct {
		name        string
		th          FaceThresholds
		score, dist float64
		band        Band
		guarded     bool
	}{
		{"MatchCloseBy", guarded, 0.1, 0.3, BandMatch, false},
		{"MatchAtGuard", guarded, 0.1, 0.45, BandUncertain, true},
		{"MatchFarApart", guarded, 0.1, 0.9, BandUncertain, true},
		{"MatchNaNDistance", guarded, 0.1, math.NaN(), BandUncertain, true},
		{"NoGuardFarApart", open, 0.1, 0.9, BandMatch, false},
		{"NoMatchStays", guarded, 0.6, 0.1, BandNoMatch, false},
		{"UncertainStays", guarded, 0.4, 0.9, BandUncertain, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := DecideFace(tc.th, "3201010101900001", FaceEvidence{Score: tc.score, Distance: tc.dist, Model: ModelConverted})
			if got.Band != tc.band || got.Guarded != tc.guarded || got.Capped {
				t.Fatalf("band %s guarded %t capped %t, want %s %t false", got.Band, got.Guarded, got.Capped, tc.band, tc.guarded)
			}
		})
	}
}

func TestFaceThresholdsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		th   FaceThresholds
		ok   bool
	}{
		{"Ordered", FaceThresholds{Match: 0.3, NoMatch: 0.5}, true},
		{"EqualNoUncertainBand", FaceThresholds{Match: 0.4, NoMatch: 0.4}, true},
		{"Guarded", FaceThresholds{Match: 0.3, NoMatch: 0.5, MatchMaxDistance: 0.45}, true},
		{"Crossed", FaceThresholds{Match: 0.6, NoMatch: 0.5}, false},
		{"NaNMatch", FaceThresholds{Match: math.NaN(), NoMatch: 0.5}, false},
		{"InfiniteNoMatch", FaceThresholds{Match: 0.3, NoMatch: math.Inf(1)}, false},
		{"NegativeGuard", FaceThresholds{Match: 0.3, NoMatch: 0.5, MatchMaxDistance: -1}, false},
		{"NaNGuard", FaceThresholds{Match: 0.3, NoMatch: 0.5, MatchMaxDistance: math.NaN()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.th.Validate()
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrBadThresholds)) {
				t.Fatalf("Validate(%+v) = %v", tc.th, err)
			}
		})
	}
}

// The modern engine decides when its model, licence and thresholds allow; dlib is then a
// second opinion that turns an outright disagreement into uncertain.
func TestDecideFaceModern(t *testing.T) {
	const claimed, other NIK = "3201010101900001", "3201010101900002"
	mt := ModernThresholds{Match: 0.56, NoMatch: 0.24}
	th := FaceThresholds{Match: 0.3, NoMatch: 0.5, Modern: mt}
	allow := th
	allow.Modern.AllowUnverified = true
	guarded := th
	guarded.MatchMaxDistance = 0.45
	cleared := func(sim float64) *ModernEvidence {
		return &ModernEvidence{Engine: "arcface112:x", Similarity: sim, Model: ModelPublished, Licence: LicenceCleared}
	}
	unverified := func(sim float64) *ModernEvidence {
		m := cleared(sim)
		m.Licence = LicenceUnverified
		return m
	}
	for _, tc := range []struct {
		name      string
		th        FaceThresholds
		dlib      float64
		dlibModel ModelClass
		modern    *ModernEvidence
		band      Band
		by        string
		disagree  bool
		licCapped bool
	}{
		{"NoModernDlibDecides", th, 0.1, ModelPublished, nil, BandMatch, EngineDlib, false, false},
		{"ModernMatch", th, 0.4, ModelPublished, cleared(0.7), BandMatch, EngineModern, false, false},
		{"ModernAtMatch", th, 0.4, ModelPublished, cleared(0.56), BandMatch, EngineModern, false, false},
		{"ModernUncertain", th, 0.1, ModelPublished, cleared(0.4), BandUncertain, EngineModern, false, false},
		{"ModernNoMatch", th, 0.4, ModelPublished, cleared(0.1), BandNoMatch, EngineModern, false, false},
		{"ModernMatchDlibNoMatch", th, 0.6, ModelPublished, cleared(0.7), BandUncertain, EngineModern, true, false},
		{"ModernNoMatchDlibMatch", th, 0.1, ModelConverted, cleared(0.1), BandUncertain, EngineModern, true, false},
		{"DlibStandInIsNoOpinion", th, 0.6, ModelStandIn, cleared(0.7), BandMatch, EngineModern, false, false},
		{"ModernOverridesDlibCap", th, 0.1, ModelStandIn, cleared(0.7), BandMatch, EngineModern, false, false},
		{"UnverifiedNotAllowed", th, 0.4, ModelPublished, unverified(0.9), BandUncertain, EngineDlib, false, true},
		{"UnverifiedAllowed", allow, 0.4, ModelPublished, unverified(0.9), BandMatch, EngineModern, false, false},
		{"UnknownModelNeverDecides", allow, 0.4, ModelPublished, &ModernEvidence{Similarity: 0.9, Model: ModelUnknown, Licence: LicenceCleared}, BandUncertain, EngineDlib, false, false},
		{"OperatorModelDecides", th, 0.4, ModelPublished, &ModernEvidence{Similarity: 0.9, Model: ModelOperator, Licence: LicenceCleared}, BandMatch, EngineModern, false, false},
		{"NoComparableTemplate", allow, 0.1, ModelPublished, cleared(math.NaN()), BandMatch, EngineDlib, false, false},
		{"GuardedDlibMatchIsNoOpinion", guarded, 0.1, ModelPublished, cleared(0.1), BandNoMatch, EngineModern, false, false},
		{"NoModernThresholds", FaceThresholds{Match: 0.3, NoMatch: 0.5}, 0.4, ModelPublished, cleared(0.9), BandUncertain, EngineDlib, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := DecideFace(tc.th, claimed, FaceEvidence{Score: tc.dlib, Distance: 1, Model: tc.dlibModel, Modern: tc.modern})
			if got.Band != tc.band || got.DecidedBy != tc.by || got.Disagree != tc.disagree || got.LicenceCapped != tc.licCapped {
				t.Errorf("band %s by %s disagree %t licence-capped %t, want %s %s %t %t",
					got.Band, got.DecidedBy, got.Disagree, got.LicenceCapped, tc.band, tc.by, tc.disagree, tc.licCapped)
			}
			if (got.Modern == nil) != (tc.modern == nil) {
				t.Errorf("modern evidence %v not carried", got.Modern)
			}
			if got.DlibScore != tc.dlib || (got.DecidedBy == EngineDlib) != (got.Score == tc.dlib) {
				t.Errorf("score %v, dlib score %v (dlib's %v, decided by %s)", got.Score, got.DlibScore, tc.dlib, got.DecidedBy)
			}
		})
	}
	// 1:N: a dlib hit the deciding modern engine puts in its no-match band is not listed; one
	// it cannot judge (NaN) or judges uncertain is. A hit of the modern index alone (no dlib
	// score) is listed when the deciding modern engine puts it in its match band, and only
	// then.
	hits := []FaceHit{
		{NIK: other, Score: 0.1, Similarity: 0.1},
		{NIK: "3201010101900003", Score: 0.1, Similarity: math.NaN()},
		{NIK: "3201010101900004", Score: 0.1, Similarity: 0.3},
		{NIK: "3201010101900005", Score: math.NaN(), Similarity: 0.7},
		{NIK: "3201010101900006", Score: math.NaN(), Similarity: 0.4},
		{NIK: "3201010101900007", Score: 0.5, Similarity: 0.7},
		{NIK: claimed, Score: math.NaN(), Similarity: 0.9},
	}
	for _, tc := range []struct {
		name   string
		modern *ModernEvidence
		want   []NIK
	}{
		{"modern decides", cleared(0.8), []NIK{"3201010101900003", "3201010101900004", "3201010101900005", "3201010101900007"}},
		{"modern may not decide: dlib's hits", unverified(0.8), []NIK{other, "3201010101900003", "3201010101900004"}},
		{"no modern engine: dlib's hits", nil, []NIK{other, "3201010101900003", "3201010101900004"}},
	} {
		got := DecideFace(th, claimed, FaceEvidence{Score: 0.4, Model: ModelPublished, Modern: tc.modern, Hits: hits})
		if !slices.Equal(got.OtherNIKs, tc.want) {
			t.Errorf("%s: other NIKs %v, want %v", tc.name, got.OtherNIKs, tc.want)
		}
	}
}

// The modern similarity on dlib's scale: its thresholds land on dlib's, more alike is smaller.
func TestModernScoreOnDlibScale(t *testing.T) {
	th := FaceThresholds{Match: 0.25, NoMatch: 0.55, Modern: ModernThresholds{Match: 0.56, NoMatch: 0.24, AllowUnverified: true}}
	score := func(sim float64) float64 {
		return DecideFace(th, "", FaceEvidence{Score: 0.4, Model: ModelPublished,
			Modern: &ModernEvidence{Similarity: sim, Model: ModelPublished, Licence: LicenceUnverified}}).Score
	}
	if s := score(0.56); math.Abs(s-0.25) > 1e-12 {
		t.Errorf("modern match threshold scores %v, want dlib's 0.25", s)
	}
	if s := score(0.24); math.Abs(s-0.55) > 1e-12 {
		t.Errorf("modern no-match threshold scores %v, want dlib's 0.55", s)
	}
	if !(score(0.9) < score(0.5)) || !(score(0.5) < score(0.1)) {
		t.Error("the mapped score does not fall as the similarity grows")
	}
}

func TestNeedsEyeCheck(t *testing.T) {
	for _, tc := range []struct {
		r    FaceResult
		want bool
	}{
		{FaceResult{Band: BandMatch}, false},
		{FaceResult{Band: BandMatch, OtherNIKs: []NIK{"3201010101900002"}}, true},
		{FaceResult{Band: BandUncertain}, true},
		{FaceResult{Band: BandNoMatch}, true},
	} {
		if got := NeedsEyeCheck(tc.r); got != tc.want {
			t.Errorf("NeedsEyeCheck(%+v) = %t, want %t", tc.r, got, tc.want)
		}
	}
}

func TestModernThresholdsValidate(t *testing.T) {
	for _, tc := range []struct {
		m  ModernThresholds
		ok bool
	}{
		{ModernThresholds{}, true},
		{ModernThresholds{Match: 0.56, NoMatch: 0.24}, true},
		{ModernThresholds{Match: 0.3, NoMatch: 0.5}, false},
		{ModernThresholds{Match: 1.5, NoMatch: 0.2}, false},
		{ModernThresholds{Match: 0.5, NoMatch: -2}, false},
	} {
		err := FaceThresholds{Match: 0.3, NoMatch: 0.5, Modern: tc.m}.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%+v: err %v, want ok %t", tc.m, err, tc.ok)
		}
	}
}
