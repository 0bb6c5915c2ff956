package face

import (
	"errors"
	"testing"

	"github.com/ikd-field/ikd/kiosk/face/match"
)

// fakeScorer returns a fixed score and records what it was given.
type fakeScorer struct {
	score     match.Score
	err       error
	live, ref int
}

func (f *fakeScorer) Score(live, refs []Descriptor) (match.Score, error) {
	f.live, f.ref = len(live), len(refs)
	return f.score, f.err
}

var _ Scorer = (*fakeScorer)(nil)

func modelSet(recognition ModelKind) ModelSet {
	return ModelSet{Files: []ModelInfo{
		{File: ShapePredictorFile, Kind: KindPublished},
		{File: RecognitionFile, Kind: recognition},
		{File: CNNDetectorFile, Kind: KindPublished},
	}}
}

func TestVerifierBands(t *testing.T) {
	th := match.Thresholds{Match: 0.3, NoMatch: 0.5}
	var a, b Descriptor
	b[0] = 3
	b[1] = 4
	for _, tc := range []struct {
		name       string
		score      match.Score
		kind       ModelKind
		want       match.Band
		downgraded bool
	}{
		{"MatchWithPublishedModel", 0.2, KindPublished, match.Match, false},
		{"UncertainBand", 0.4, KindPublished, match.Uncertain, false},
		{"NoMatch", 0.6, KindPublished, match.NoMatch, false},
		{"MatchWithStandInIsOnlyUncertain", 0.2, KindStandIn, match.Uncertain, true},
		{"MatchWithUnknownModelIsOnlyUncertain", 0.2, KindUnknown, match.Uncertain, true},
		{"NoMatchWithStandInStaysNoMatch", 0.6, KindStandIn, match.NoMatch, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := &fakeScorer{score: tc.score}
			v, err := NewVerifier(fs, th, modelSet(tc.kind))
			if err != nil {
				t.Fatal(err)
			}
			vd, err := v.Verify([]Descriptor{a, a}, []Descriptor{b})
			if err != nil {
				t.Fatal(err)
			}
			if vd.Band != tc.want || vd.Downgraded != tc.downgraded || vd.Score != tc.score {
				t.Fatalf("verdict %+v, want band %s downgraded %v", vd, tc.want, tc.downgraded)
			}
			if vd.Distance != 5 {
				t.Fatalf("distance %v, want 5", vd.Distance)
			}
			if fs.live != 2 || fs.ref != 1 {
				t.Fatalf("scorer saw %d live and %d refs", fs.live, fs.ref)
			}
		})
	}
}

func TestVerifierErrors(t *testing.T) {
	th := match.Thresholds{Match: 0.3, NoMatch: 0.5}
	if _, err := NewVerifier(nil, th, modelSet(KindPublished)); err == nil {
		t.Error("nil scorer accepted")
	}
	if _, err := NewVerifier(&fakeScorer{}, match.Thresholds{Match: 0.6, NoMatch: 0.5}, modelSet(KindPublished)); !errors.Is(err, match.ErrBadThresholds) {
		t.Errorf("crossed thresholds: %v", err)
	}
	v, err := NewVerifier(&fakeScorer{err: errors.New("boom")}, th, modelSet(KindPublished))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(nil, []Descriptor{{}}); !errors.Is(err, match.ErrNoDescriptors) {
		t.Errorf("no live descriptors: %v", err)
	}
	if _, err := v.Verify([]Descriptor{{}}, []Descriptor{{}}); err == nil {
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
