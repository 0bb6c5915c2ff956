// Package liveness decides whether a face capture comes from a live person in front of the
// camera: a randomised head-turn challenge read from landmark yaw, plus checks that the
// frames are not one image replayed and that the face stays the same person. It is a pure
// state machine over per-frame measurements, with no dlib and no clock of its own.
//
// What it stops: a photo or screen held still (it cannot turn its head on request), one frame
// injected repeatedly (identical descriptors), and a face swap between the frontal frames.
// What it does not stop: a video replay that happens to turn the right way, or a printed photo
// bent or rotated by hand convincingly enough to move the landmarks; those need depth or
// texture analysis this kiosk's webcam cannot provide.
package liveness

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/ikd-field/ikd/kiosk/face/quality"
)

// Direction is the way the citizen is asked to turn, in the citizen's own terms.
type Direction int

const (
	// Left: the citizen turns to their own left; the nose moves to the image's right, so the
	// yaw (quality.Pose.Yaw) grows positive.
	Left Direction = iota + 1
	// Right: the citizen turns to their own right; the yaw goes negative.
	Right
)

func (d Direction) sign() float64 {
	if d == Right {
		return -1
	}
	return 1
}

func (d Direction) String() string {
	switch d {
	case Left:
		return "left"
	case Right:
		return "right"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// RandomDirection picks Left or Right from a cryptographic source, so that an attacker
// cannot prepare a recording that turns the right way.
func RandomDirection() (Direction, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(2))
	if err != nil {
		return 0, fmt.Errorf("liveness: random direction: %w", err)
	}
	return Direction(n.Int64() + 1), nil
}

// Config holds the challenge's thresholds.
type Config struct {
	// NeutralYaw: |yaw| at most this counts as facing the camera.
	NeutralYaw float64
	// TurnYaw: a yaw at least this far in the asked direction counts as turned. The
	// opposite direction beyond it is a wrong turn.
	TurnYaw float64
	// FrontalFrames is how many frontal frames are needed before the prompt and after the
	// turn.
	FrontalFrames int
	// Timeout bounds the whole challenge.
	Timeout time.Duration
	// MaxRelDistance bounds the consistency measure (see RelativeDistance) between any
	// frontal frame's descriptor and the first one.
	MaxRelDistance float64
}

// DefaultConfig suits a 15–30 fps webcam and a citizen who needs a moment to understand
// the prompt.
func DefaultConfig() Config {
	return Config{NeutralYaw: 12, TurnYaw: 25, FrontalFrames: 3, Timeout: 12 * time.Second, MaxRelDistance: 0.3}
}

// Frame is what the challenge needs from one analysed frame.
type Frame struct {
	At  time.Time
	Yaw float64
	// Descriptor of the face; compared only on frontal frames.
	Descriptor [128]float32
	// Usable reports that the frame passed the quality gate, so its descriptor is
	// trustworthy for the consistency check.
	Usable bool
}

// State of a challenge.
type State int

const (
	WaitFrontal State = iota // look at the camera
	Turn                     // turn the head in the asked direction
	Return                   // face the camera again
	Passed
	Failed
)

func (s State) String() string {
	return [...]string{"wait-frontal", "turn", "return", "passed", "failed"}[s]
}

// Reasons a challenge fails.
var (
	ErrTimeout      = errors.New("liveness: challenge not completed in time")
	ErrWrongTurn    = errors.New("liveness: head turned the wrong way")
	ErrFrozen       = errors.New("liveness: identical frames (a replayed image)")
	ErrInconsistent = errors.New("liveness: the face changed during the capture")
)

// Prompts shown to the citizen.
var (
	PromptLookAtCamera = quality.Hint{Code: "live.look", ID: "Lihat ke kamera", EN: "Look at the camera"}
	PromptTurnLeft     = quality.Hint{Code: "live.turn_left", ID: "Tolehkan kepala perlahan ke kiri Anda", EN: "Slowly turn your head to your left"}
	PromptTurnRight    = quality.Hint{Code: "live.turn_right", ID: "Tolehkan kepala perlahan ke kanan Anda", EN: "Slowly turn your head to your right"}
	PromptReturn       = quality.Hint{Code: "live.return", ID: "Sekarang lihat lurus ke kamera lagi", EN: "Now look straight at the camera again"}
	PromptDone         = quality.Hint{Code: "live.done", ID: "Selesai, terima kasih", EN: "Done, thank you"}
	PromptFailed       = quality.Hint{Code: "live.failed", ID: "Pemeriksaan gagal: ulangi dari awal", EN: "Check failed: start again"}
)

// Challenge is one run of the head-turn challenge. It is not safe for concurrent use: one
// capture goroutine owns it.
type Challenge struct {
	cfg     Config
	dir     Direction
	state   State
	err     error
	start   time.Time
	frontal int
	last    *Frame
	anchor  *[128]float32 // first usable frontal descriptor
	maxTurn float64       // largest yaw reached in the asked direction
	maxRel  float64       // largest consistency distance seen
}

// New starts a challenge asking for a turn in dir.
func New(cfg Config, dir Direction) (*Challenge, error) {
	if dir != Left && dir != Right {
		return nil, fmt.Errorf("liveness: invalid direction %d", dir)
	}
	if cfg.TurnYaw <= cfg.NeutralYaw || cfg.NeutralYaw <= 0 || cfg.FrontalFrames < 1 || cfg.Timeout <= 0 || cfg.MaxRelDistance <= 0 {
		return nil, fmt.Errorf("liveness: invalid config %+v", cfg)
	}
	return &Challenge{cfg: cfg, dir: dir}, nil
}

// Direction is the turn this challenge asks for.
func (c *Challenge) Direction() Direction { return c.dir }

// State is the current state.
func (c *Challenge) State() State { return c.state }

// Err is why the challenge failed, or nil.
func (c *Challenge) Err() error { return c.err }

// Consistency is the largest relative descriptor distance seen between frontal frames.
func (c *Challenge) Consistency() float64 { return c.maxRel }

// PeakYaw is the largest yaw reached in the asked direction.
func (c *Challenge) PeakYaw() float64 { return c.maxTurn }

// Prompt is what to show the citizen now.
func (c *Challenge) Prompt() quality.Hint {
	switch c.state {
	case WaitFrontal:
		return PromptLookAtCamera
	case Turn:
		if c.dir == Left {
			return PromptTurnLeft
		}
		return PromptTurnRight
	case Return:
		return PromptReturn
	case Passed:
		return PromptDone
	}
	return PromptFailed
}

// Missed records a frame without a usable face (none, several, or unreadable): it only
// advances the clock. A citizen turning away may briefly lose detection.
func (c *Challenge) Missed(at time.Time) State {
	c.checkTime(at)
	return c.state
}

// Observe feeds one analysed frame and returns the new state.
func (c *Challenge) Observe(f Frame) State {
	if c.state == Passed || c.state == Failed {
		return c.state
	}
	if c.checkTime(f.At); c.state == Failed {
		return c.state
	}
	if c.last != nil && c.last.Descriptor == f.Descriptor {
		// A live camera never delivers two bit-identical descriptors: sensor noise changes
		// every frame. Identical ones mean the same image was fed twice.
		return c.fail(ErrFrozen)
	}
	last := f
	c.last = &last
	if f.Usable && math.Abs(f.Yaw) <= c.cfg.NeutralYaw {
		if c.anchor == nil {
			d := f.Descriptor
			c.anchor = &d
		} else {
			rd := RelativeDistance(*c.anchor, f.Descriptor)
			c.maxRel = math.Max(c.maxRel, rd)
			if rd > c.cfg.MaxRelDistance {
				return c.fail(ErrInconsistent)
			}
		}
	}
	yaw := f.Yaw * c.dir.sign() // positive in the asked direction
	frontal := math.Abs(f.Yaw) <= c.cfg.NeutralYaw
	switch c.state {
	case WaitFrontal:
		if frontal && f.Usable {
			c.frontal++
		} else {
			c.frontal = 0
		}
		if c.frontal >= c.cfg.FrontalFrames {
			c.state, c.frontal = Turn, 0
		}
	case Turn:
		switch {
		case yaw <= -c.cfg.TurnYaw:
			return c.fail(ErrWrongTurn)
		case yaw >= c.cfg.TurnYaw:
			c.maxTurn = math.Max(c.maxTurn, yaw)
			c.state = Return
		}
	case Return:
		c.maxTurn = math.Max(c.maxTurn, yaw)
		switch {
		case yaw <= -c.cfg.TurnYaw:
			return c.fail(ErrWrongTurn)
		case frontal && f.Usable:
			c.frontal++
		default:
			c.frontal = 0
		}
		if c.frontal >= c.cfg.FrontalFrames {
			c.state = Passed
		}
	}
	return c.state
}

func (c *Challenge) checkTime(at time.Time) {
	if c.state == Passed || c.state == Failed {
		return
	}
	if c.start.IsZero() {
		c.start = at
	}
	if at.Sub(c.start) > c.cfg.Timeout {
		c.fail(ErrTimeout)
	}
}

func (c *Challenge) fail(err error) State {
	c.state, c.err = Failed, err
	return c.state
}

// RelativeDistance is the Euclidean distance between a and b divided by their mean norm.
// Being scale-free, one threshold works for dlib's published model and for the shared
// random-weight stand-in. With the published model (norms about 1.4) the default 0.3 is a raw
// distance of about 0.42: frames of one capture (same person, same light, seconds apart) sit
// well below it, while it still catches a different face swapped in. With the stand-in
// (norms 75–160) the same photo with sensor-like noise or a 4 px shift measured 0.003–0.016,
// and different photos 0.055–0.60 (people are not separated: it only tells "same picture"
// from "other picture"). Two zero vectors are at distance 0; one zero vector is at +Inf.
func RelativeDistance(a, b [128]float32) float64 {
	var d, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		d += (x - y) * (x - y)
		na += x * x
		nb += y * y
	}
	mean := (math.Sqrt(na) + math.Sqrt(nb)) / 2
	if mean == 0 {
		return 0
	}
	if na == 0 || nb == 0 {
		return math.Inf(1)
	}
	return math.Sqrt(d) / mean
}
