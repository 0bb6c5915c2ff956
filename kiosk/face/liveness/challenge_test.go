package liveness

import (
	"errors"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk/face/quality"
)

var t0 = time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)

// frameAt builds a frame whose yaw is read back from synthetic landmarks of a head turned
// by yawDeg, so the test goes through the same geometry the pipeline uses.
func frameAt(t *testing.T, i int, yawDeg float64, seed float32) Frame {
	t.Helper()
	l := quality.SyntheticLandmarks(quality.Point{X: 640, Y: 360}, 120, 2, yawDeg)
	p, err := quality.EstimatePose(l)
	if err != nil {
		t.Fatal(err)
	}
	var d [128]float32
	for k := range d {
		d[k] = 1 + seed*float32(k%7) + float32(i)*1e-4 // live: tiny frame-to-frame noise
	}
	return Frame{At: t0.Add(time.Duration(i) * 66 * time.Millisecond), Yaw: p.Yaw, Descriptor: d,
		Usable: p.Yaw < 20 && p.Yaw > -20}
}

func run(t *testing.T, c *Challenge, yaws []float64, seeds []float32) State {
	t.Helper()
	var s State
	for i, y := range yaws {
		seed := float32(0.01)
		if seeds != nil {
			seed = seeds[i]
		}
		s = c.Observe(frameAt(t, i, y, seed))
	}
	return s
}

func mustNew(t *testing.T, dir Direction) *Challenge {
	t.Helper()
	c, err := New(DefaultConfig(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChallenge(t *testing.T) {
	turnLeft := []float64{0, 1, -1, 5, 12, 22, 30, 25, 12, 4, 1, 0}
	turnRight := []float64{0, 1, -1, -5, -12, -22, -30, -25, -12, -4, -1, 0}
	for _, tc := range []struct {
		name string
		dir  Direction
		yaws []float64
		want State
		err  error
	}{
		{"LeftTurnAsked", Left, turnLeft, Passed, nil},
		{"RightTurnAsked", Right, turnRight, Passed, nil},
		{"WrongWay", Left, turnRight, Failed, ErrWrongTurn},
		{"NeverReturns", Left, []float64{0, 0, 0, 10, 25, 30, 30, 30}, Return, nil},
		{"TurnTooSmall", Left, []float64{0, 0, 0, 8, 12, 15, 12, 5, 0, 0, 0}, Turn, nil},
		{"StartsTurnedNeverFrontal", Right, []float64{-30, -30, -25, -30, -28}, WaitFrontal, nil},
		{"FrontalFramesInterrupted", Left, []float64{0, 0, 25, 0, 0}, WaitFrontal, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, tc.dir)
			if got := run(t, c, tc.yaws, nil); got != tc.want {
				t.Fatalf("state %v, want %v (err %v)", got, tc.want, c.Err())
			}
			if !errors.Is(c.Err(), tc.err) {
				t.Fatalf("err %v, want %v", c.Err(), tc.err)
			}
		})
	}
}

func TestStillPhotoFailsOnTimeout(t *testing.T) {
	c := mustNew(t, Left)
	// A photo held still: frontal, slightly noisy (a real camera), never turns.
	for i := 0; i < 400 && c.State() != Failed; i++ {
		c.Observe(frameAt(t, i, 0.5, 0.01))
	}
	if c.State() != Failed || !errors.Is(c.Err(), ErrTimeout) {
		t.Fatalf("state %v err %v, want failed by timeout", c.State(), c.Err())
	}
	if c.Prompt() != PromptFailed {
		t.Fatalf("prompt %v", c.Prompt())
	}
}

func TestReplayedFrameFails(t *testing.T) {
	c := mustNew(t, Right)
	f := frameAt(t, 0, 0, 0.01)
	c.Observe(f)
	f.At = f.At.Add(66 * time.Millisecond)
	if got := c.Observe(f); got != Failed || !errors.Is(c.Err(), ErrFrozen) {
		t.Fatalf("state %v err %v, want failed as frozen", got, c.Err())
	}
}

func TestFaceSwapFails(t *testing.T) {
	c := mustNew(t, Left)
	yaws := []float64{0, 0, 0, 25, 0, 0, 0}
	seeds := []float32{0.01, 0.01, 0.01, 0.01, 3, 3, 3} // another face after the turn
	if got := run(t, c, yaws, seeds); got != Failed || !errors.Is(c.Err(), ErrInconsistent) {
		t.Fatalf("state %v err %v, want inconsistent", got, c.Err())
	}
}

func TestMissedFramesOnlyAdvanceTheClock(t *testing.T) {
	c := mustNew(t, Left)
	c.Observe(frameAt(t, 0, 0, 0.01))
	if got := c.Missed(t0.Add(time.Second)); got != WaitFrontal {
		t.Fatalf("state %v", got)
	}
	if got := c.Missed(t0.Add(DefaultConfig().Timeout + time.Second)); got != Failed || !errors.Is(c.Err(), ErrTimeout) {
		t.Fatalf("state %v err %v", got, c.Err())
	}
}

func TestPrompts(t *testing.T) {
	c := mustNew(t, Right)
	if c.Prompt() != PromptLookAtCamera {
		t.Fatal(c.Prompt())
	}
	run(t, c, []float64{0, 0, 0}, nil)
	if c.State() != Turn || c.Prompt() != PromptTurnRight {
		t.Fatalf("%v %v", c.State(), c.Prompt())
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	if _, err := New(DefaultConfig(), Direction(0)); err == nil {
		t.Error("direction 0 accepted")
	}
	cfg := DefaultConfig()
	cfg.TurnYaw = cfg.NeutralYaw
	if _, err := New(cfg, Left); err == nil {
		t.Error("turn threshold equal to neutral accepted")
	}
}

func TestRandomDirectionGivesBoth(t *testing.T) {
	seen := map[Direction]bool{}
	for i := 0; i < 200 && len(seen) < 2; i++ {
		d, err := RandomDirection()
		if err != nil {
			t.Fatal(err)
		}
		if d != Left && d != Right {
			t.Fatalf("direction %v", d)
		}
		seen[d] = true
	}
	if len(seen) != 2 {
		t.Fatalf("200 draws gave only %v", seen)
	}
}

func TestRelativeDistance(t *testing.T) {
	var a, b, z [128]float32
	for i := range a {
		a[i] = 1
		b[i] = 2
	}
	for _, tc := range []struct {
		name string
		x, y [128]float32
		want float64
	}{
		{"Identical", a, a, 0},
		{"ScaleOnly", a, b, 11.3137 / ((11.3137 + 22.6274) / 2)},
		{"BothZero", z, z, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RelativeDistance(tc.x, tc.y); got-tc.want > 1e-3 || tc.want-got > 1e-3 {
				t.Fatalf("got %v want %v", got, tc.want)
			}
		})
	}
	if got := RelativeDistance(a, z); got < 1e300 {
		t.Fatalf("one zero vector: %v, want +Inf", got)
	}
}
