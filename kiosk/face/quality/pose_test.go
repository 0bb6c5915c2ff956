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

// shape68 places l at the indices of dlib's 68-point shape that FromShape reads, and every
// other point far away, so that reading a wrong index shows in the pose.
func shape68(l Landmarks) []Point {
	pts := make([]Point, 68)
	for i := range pts {
		pts[i] = Point{-500, 900}
	}
	for i, j := range []int{45, 42, 36, 39, 33} {
		pts[j] = l[i]
	}
	return pts
}

func TestFromShape(t *testing.T) {
	l := SyntheticLandmarks(Point{320, 240}, 100, 8, -20)
	for _, tc := range []struct {
		name string
		pts  []Point
		err  error
	}{
		{"FivePoints", l[:], nil},
		{"SixtyEightPoints", shape68(l), nil},
		{"NoPoints", nil, ErrShapeSize},
		{"SixPoints", append(l[:], Point{}), ErrShapeSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromShape(tc.pts)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if got != l {
				t.Fatalf("landmarks %v, want %v", got, l)
			}
			p, err := EstimatePose(got)
			if err != nil || math.Abs(p.Roll-8) > 0.5 || math.Abs(p.Yaw+20) > 0.5 {
				t.Fatalf("pose %+v (%v), want roll 8 yaw -20", p, err)
			}
		})
	}
}
