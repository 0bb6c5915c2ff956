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
		{"OnlyTheClaimedResident", []FaceHit{{claimed, 0.1}}, nil},
		{"AnotherResident", []FaceHit{{claimed, 0.1}, {other, 0.2}}, []NIK{other}},
		{"AnotherAboveMatch", []FaceHit{{other, 0.3}}, nil},
		{"TwoOthersOneTwice", []FaceHit{{third, 0.1}, {other, 0.2}, {third, 0.25}}, []NIK{third, other}},
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
