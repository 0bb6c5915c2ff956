package quality

import (
	"math"
	"testing"
)

// FuzzCheck feeds the gate arbitrary landmarks (they come from a model run on camera input):
// it must return a report or ErrDegenerate, never panic, and never report NaN pose values.
func FuzzCheck(f *testing.F) {
	l := SyntheticLandmarks(Point{320, 240}, 100, 5, -10)
	f.Add(l[0].X, l[0].Y, l[1].X, l[1].Y, l[2].X, l[2].Y, l[3].X, l[3].Y, l[4].X, l[4].Y)
	f.Add(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
	f.Add(-1e9, 5.0, 1e9, 5.0, -3.0, 2.0, 4.0, 1.0, 0.0, 1e12)
	frame := texture(640, 480, 128, 50, 0)
	f.Fuzz(func(t *testing.T, x0, y0, x1, y1, x2, y2, x3, y3, x4, y4 float64) {
		lm := Landmarks{{x0, y0}, {x1, y1}, {x2, y2}, {x3, y3}, {x4, y4}}
		rep, err := Defaults().Check(frame, lm)
		if err != nil {
			return
		}
		p := rep.Pose
		if math.IsNaN(p.IOD) || math.IsNaN(p.Roll) || math.IsNaN(p.Yaw) || math.IsNaN(rep.Score) {
			t.Fatalf("NaN in report %+v for %v", rep, lm)
		}
	})
}
