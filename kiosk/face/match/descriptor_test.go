package match

import (
	"math"
	"testing"
)

func TestDistance(t *testing.T) {
	var a, b Descriptor
	a[0], b[0] = 0.3, 0
	a[5], b[5] = 0, 0.4
	if got := Distance(a, b); math.Abs(got-0.5) > 1e-7 {
		t.Fatalf("Distance = %v, want 0.5", got)
	}
	if got := Distance(a, a); got != 0 {
		t.Fatalf("Distance to itself = %v", got)
	}
}
