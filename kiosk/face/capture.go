package face

import (
	"context"
	"errors"
	"fmt"
	"image"
	"slices"
	"time"

	"github.com/ikd-field/ikd/kiosk/face/liveness"
	"github.com/ikd-field/ikd/kiosk/face/quality"
)

// CaptureConfig tunes a live capture.
type CaptureConfig struct {
	// BestN is how many of the best frames (by quality score) make the live descriptor.
	BestN    int
	Liveness liveness.Config
}

// DefaultCaptureConfig keeps the best 3 frames.
func DefaultCaptureConfig() CaptureConfig {
	return CaptureConfig{BestN: 3, Liveness: liveness.DefaultConfig()}
}

// Capture is one citizen's face capture at the counter: it feeds frames through the analyzer
// and the liveness challenge and keeps the best frames for the descriptor. One goroutine owns
// it (the camera loop); it is not safe for concurrent use.
type Capture struct {
	an   *Analyzer
	cfg  CaptureConfig
	ch   *liveness.Challenge
	best []Observation // usable frames, best score first, at most BestN
}

// Progress is what one frame changed: the state of the challenge, what to show the citizen,
// and the frame's observation when a face was found.
type Progress struct {
	State  liveness.State
	Prompt quality.Hint
	Obs    *Observation
}

// NewCapture starts a capture whose challenge asks for a turn in dir (use
// liveness.RandomDirection in production).
func NewCapture(an *Analyzer, cfg CaptureConfig, dir liveness.Direction) (*Capture, error) {
	if cfg.BestN < 1 {
		return nil, fmt.Errorf("face capture: best-N %d must be at least 1", cfg.BestN)
	}
	ch, err := liveness.New(cfg.Liveness, dir)
	if err != nil {
		return nil, err
	}
	if cfg.BestN > 2*cfg.Liveness.FrontalFrames {
		return nil, fmt.Errorf("face capture: best-N %d exceeds the %d frontal frames the challenge guarantees", cfg.BestN, 2*cfg.Liveness.FrontalFrames)
	}
	return &Capture{an: an, cfg: cfg, ch: ch}, nil
}

// Challenge exposes the liveness challenge (its direction and failure reason).
func (c *Capture) Challenge() *liveness.Challenge { return c.ch }

// Step analyses one frame captured at at. Feed each camera frame once (check its sequence
// number): the same image twice is indistinguishable from an injected replay and fails the
// challenge with liveness.ErrFrozen.
func (c *Capture) Step(ctx context.Context, frame image.Image, at time.Time) (Progress, error) {
	if s := c.ch.State(); s == liveness.Passed || s == liveness.Failed {
		return Progress{State: s, Prompt: c.ch.Prompt()}, nil
	}
	obs, err := c.an.Analyze(ctx, frame)
	var hint quality.Hint
	if errors.As(err, &hint) {
		s := c.ch.Missed(at)
		if s == liveness.Failed {
			return Progress{State: s, Prompt: c.ch.Prompt()}, nil
		}
		return Progress{State: s, Prompt: hint}, nil
	}
	if err != nil {
		return Progress{}, err
	}
	usable := obs.Quality.OK()
	s := c.ch.Observe(liveness.Frame{At: at, Yaw: obs.Quality.Pose.Yaw, Descriptor: obs.Descriptor, Usable: usable})
	if usable && s != liveness.Failed {
		c.keep(obs)
	}
	p := Progress{State: s, Prompt: c.ch.Prompt(), Obs: &obs}
	// While waiting for a frontal face, a quality problem other than the pose is what the
	// citizen must fix first; during the turn the pose "fails" the gate by design.
	if h, bad := obs.Quality.Hint(); bad && (s == liveness.WaitFrontal || s == liveness.Return) {
		p.Prompt = h
	}
	return p, nil
}

func (c *Capture) keep(obs Observation) {
	i, _ := slices.BinarySearchFunc(c.best, obs.Quality.Score, func(o Observation, s float64) int {
		switch {
		case o.Quality.Score > s:
			return -1
		case o.Quality.Score < s:
			return 1
		}
		return 0
	})
	c.best = slices.Insert(c.best, i, obs)
	if len(c.best) > c.cfg.BestN {
		c.best = c.best[:c.cfg.BestN]
	}
}

// ErrCaptureIncomplete: the capture has not passed the liveness challenge.
var ErrCaptureIncomplete = errors.New("face capture not complete")

// Result returns the best frames' descriptors once the challenge has passed. A failed
// challenge returns its reason.
func (c *Capture) Result() ([]Descriptor, error) {
	switch c.ch.State() {
	case liveness.Passed:
	case liveness.Failed:
		return nil, c.ch.Err()
	default:
		return nil, fmt.Errorf("%w: %s", ErrCaptureIncomplete, c.ch.State())
	}
	out := make([]Descriptor, len(c.best))
	for i, o := range c.best {
		out[i] = o.Descriptor
	}
	return out, nil
}

// Best returns the kept observations, best first (for the officer's photo view).
func (c *Capture) Best() []Observation { return slices.Clone(c.best) }
