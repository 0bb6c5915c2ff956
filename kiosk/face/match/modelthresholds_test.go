package match

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
)

// withByModel returns the shipped asset with its thresholds_by_model replaced by raw JSON.
func withByModel(t *testing.T, byModel string) []byte {
	t.Helper()
	b, err := mustDefault(t).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if byModel == "" {
		delete(f, "thresholds_by_model")
	} else {
		f["thresholds_by_model"] = json.RawMessage(byModel)
	}
	out, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestThresholdsByModelParse(t *testing.T) {
	for _, tc := range []struct {
		name, byModel string
		wantErr       error
		class         kiosk.ModelClass
		want          kiosk.FaceThresholds // for class
	}{
		{"AbsentFallsBackToDefaults", "", nil, kiosk.ModelConverted, kiosk.FaceThresholds{Match: 0.263, NoMatch: 0.553}},
		{"Listed", `{"converted": {"match": 0.2, "no_match": 0.6, "match_max_distance": 0.4}}`, nil, kiosk.ModelConverted,
			kiosk.FaceThresholds{Match: 0.2, NoMatch: 0.6, MatchMaxDistance: 0.4}},
		{"UnlistedClassFallsBack", `{"converted": {"match": 0.2, "no_match": 0.6}}`, nil, kiosk.ModelPublished,
			kiosk.FaceThresholds{Match: 0.263, NoMatch: 0.553}},
		{"MatchAboveNoMatch", `{"converted": {"match": 0.7, "no_match": 0.6}}`, kiosk.ErrBadThresholds, "", kiosk.FaceThresholds{}},
		{"NegativeGuard", `{"converted": {"match": 0.2, "no_match": 0.6, "match_max_distance": -1}}`, kiosk.ErrBadThresholds, "", kiosk.FaceThresholds{}},
		{"NotAnObject", `[1]`, ErrBadCalibration, "", kiosk.FaceThresholds{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCalibration(withByModel(t, tc.byModel))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !errors.Is(err, ErrBadCalibration) {
					t.Fatalf("error %v, want %v (and ErrBadCalibration)", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.ThresholdsFor(tc.class); got != tc.want {
				t.Fatalf("ThresholdsFor(%s) = %+v, want %+v", tc.class, got, tc.want)
			}
			again, err := c.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseCalibration(again)
			if err != nil {
				t.Fatal(err)
			}
			if got := back.ThresholdsFor(tc.class); got != tc.want {
				t.Fatalf("after a round trip ThresholdsFor(%s) = %+v, want %+v", tc.class, got, tc.want)
			}
		})
	}
}

// TestShippedThresholdsByModel: the asset lists both dlib-weight classes, the published one
// with the default thresholds, the converted one no looser, both with the guard.
func TestShippedThresholdsByModel(t *testing.T) {
	c := mustDefault(t)
	pub, conv := c.ThresholdsByModel[kiosk.ModelPublished], c.ThresholdsByModel[kiosk.ModelConverted]
	if pub.Match != c.Thresholds.Match || pub.NoMatch != c.Thresholds.NoMatch {
		t.Errorf("published %+v, default thresholds %+v", pub, c.Thresholds)
	}
	if conv.Match > pub.Match || conv.NoMatch < pub.NoMatch || conv.Match == 0 {
		t.Errorf("converted %+v is looser than published %+v (or missing)", conv, pub)
	}
	for class, m := range map[kiosk.ModelClass]kiosk.FaceThresholds{kiosk.ModelPublished: pub, kiosk.ModelConverted: conv} {
		if m.MatchMaxDistance != MatchMaxDistance {
			t.Errorf("%s: guard %v, want %v", class, m.MatchMaxDistance, MatchMaxDistance)
		}
	}
}
