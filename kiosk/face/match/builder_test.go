package match

import (
	"math"
	"slices"
	"testing"
)

// The builder, fed one reference at a time across several batches and with a wrong size
// hint, makes the same index as NewIndex.
func TestIndexBuilderMatchesNewIndex(t *testing.T) {
	c := mustDefault(t)
	refs := mustSynthetic(t, c, 2*builderBatch+123, 11)
	want, err := NewIndex(c, refs)
	if err != nil {
		t.Fatal(err)
	}
	for _, hint := range []int{0, len(refs) / 3, len(refs)} {
		b := NewIndexBuilder(c, hint)
		for _, r := range refs {
			if err := b.Add(r.Key, r.Descriptor); err != nil {
				t.Fatal(err)
			}
		}
		got, err := b.Index()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.keys, want.keys) || !slices.Equal(got.vecs, want.vecs) || !slices.Equal(got.tails, want.tails) ||
			got.dim != want.dim || got.checks != want.checks {
			t.Fatalf("hint %d: builder's index differs from NewIndex's", hint)
		}
	}
}

func TestIndexBuilderRefusesNaN(t *testing.T) {
	c := mustDefault(t)
	b := NewIndexBuilder(c, 2)
	var d Descriptor
	d[0] = 1
	if err := b.Add("good", d); err != nil {
		t.Fatal(err)
	}
	d[3] = float32(math.NaN())
	if err := b.Add("bad", d); err == nil {
		t.Fatal("NaN accepted")
	}
	if _, err := b.Index(); err == nil {
		t.Fatal("index built after a refused reference")
	}
}
