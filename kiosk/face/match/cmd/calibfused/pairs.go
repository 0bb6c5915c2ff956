package main

import (
	"fmt"

	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/match"
)

// pair is one comparison of two faces of one set, one photo per side.
type pair struct {
	set       string
	a, b      string // people (labelled sets) or photos
	genuine   bool
	dlibScore float64 // the shipped calibration's score (smaller is more alike)
	raw       float64 // dlib's Euclidean distance
	cosine    float64 // the modern engine's cosine similarity (larger is more alike)
}

// pairs compares every two faces of a labelled set, and the faces of one photo of an
// unlabelled set.
func pairs(c *match.Calibration, ss []sample) ([]pair, error) {
	var out []pair
	for i := range ss {
		for j := i + 1; j < len(ss); j++ {
			x, y := ss[i], ss[j]
			if x.Set != y.Set {
				continue
			}
			s, err := c.Score([]face.Descriptor{x.Descriptor}, []face.Descriptor{y.Descriptor})
			if err != nil {
				return nil, fmt.Errorf("%s and %s: %w", x.File, y.File, err)
			}
			out = append(out, pair{set: x.Set, a: x.Label, b: y.Label, genuine: x.Label == y.Label,
				dlibScore: float64(s), raw: match.Distance(x.Descriptor, y.Descriptor), cosine: face.Cosine(x.Embedding, y.Embedding)})
		}
	}
	return out, nil
}
