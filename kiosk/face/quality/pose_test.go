package quality

import (
	"errors"
	"math"
	"testing"
)

func TestEstimatePoseRecoversSyntheticPose(t *testing.T) {
	for _, tc := range []struct {
		name           string
		iod, roll, yaw float64
	}{
		{"Frontal", 100, 0, 0},
		{"TiltedClockwise", 80, 12, 0},
		{"TiltedAnticlockwise", 80, -20, 0},
		{"TurnedToOwnLeft", 120, 0, 25},
		{"TurnedToOwnRight", 120, 0, -25},
		{"TurnedAndTilted", 60, 8, -15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := SyntheticLandmarks(Point{320, 240}, tc.iod, tc.roll, tc.yaw)
			p, err := EstimatePose(l)
			if err != nil {
				t.Fatal(err)
			}
			wantIOD := tc.iod * math.Cos(tc.yaw*math.Pi/180)
			if math.Abs(p.IOD-wantIOD) > 0.5 || math.Abs(p.Roll-tc.roll) > 0.5 || math.Abs(p.Yaw-tc.yaw) > 0.5 {
				t.Fatalf("pose %+v, want iod %.1f roll %v yaw %v", p, wantIOD, tc.roll, tc.yaw)
			}
		})
	}
}

func TestEstimatePoseRejectsDegenerate(t *testing.T) {
	good := SyntheticLandmarks(Point{100, 100}, 50, 0, 0)
	sameEyes := good
	sameEyes[0], sameEyes[1] = sameEyes[2], sameEyes[3]
	noseAbove := good
	noseAbove[4].Y = 50
	nan := good
	nan[4].X = math.NaN()
	for name, l := range map[string]Landmarks{"EyesOnTopOfEachOther": sameEyes, "NoseAboveEyes": noseAbove, "NaN": nan} {
		t.Run(name, func(t *testing.T) {
			if _, err := EstimatePose(l); !errors.Is(err, ErrDegenerate) {
				t.Fatalf("err %v, want ErrDegenerate", err)
			}
		})
	}
}
