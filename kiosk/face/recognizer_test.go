package face

import "testing"

func TestParseDetector(t *testing.T) {
	for in, want := range map[string]Detector{"": HOG, "hog": HOG, "cnn": CNN} {
		if got, err := ParseDetector(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := ParseDetector("sift"); err == nil {
		t.Error("unknown detector accepted")
	}
}
