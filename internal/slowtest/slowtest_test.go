package slowtest

import "testing"

// recorder is a testing.TB that records what Skip did instead of stopping the test.
type recorder struct {
	testing.TB
	name            string
	failed, skipped bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Name() string          { return r.name }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Skip(...any)           { r.skipped = true }

func TestSkip(t *testing.T) {
	for _, tc := range []struct {
		name       string
		wantFailed bool
	}{
		{"TestSlowRobustness", false},
		{"TestSlowRobustness/Blur", false},
		{"TestRobustness", true},
		{"TestRobustnessSlow", true},
	} {
		r := &recorder{name: tc.name}
		Skip(r, "why")
		if r.failed != tc.wantFailed {
			t.Errorf("Skip on %s: failed %v, want %v", tc.name, r.failed, tc.wantFailed)
		}
		if !r.failed && r.skipped != testing.Short() {
			t.Errorf("Skip on %s under -short=%v: skipped %v", tc.name, testing.Short(), r.skipped)
		}
	}
}
