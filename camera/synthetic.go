package camera

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync"
	"time"
)

// SceneOptions describes a synthetic camera frame: a phone held in front of a webcam, its
// screen showing a QR code (or only app text when Text is empty), over a busy background.
// The zero value of every impairment means "none"; Seed makes the scene reproducible.
type SceneOptions struct {
	Width, Height int // frame size; 0 means 1280×720

	Text     string  // QR content; empty renders a phone screen with no code
	ModulePx float64 // size of one QR module in frame pixels at the phone's centre; 0 means 4
	Inverted bool    // light modules on a dark screen (an app in dark mode)

	RotationDeg    float64 // in-plane rotation of the phone
	PerspectiveDeg float64 // tilt of the phone away from the camera (0..60)

	Blur     float64 // Gaussian blur sigma in pixels (defocus)
	Noise    float64 // sensor noise sigma in grey levels
	Contrast float64 // 0 or 1 for full contrast; 0.2 keeps only 20% of the dark–light gap
	Glare    float64 // strength (0..1) of a reflection washing out part of the screen
	Moire    float64 // strength (0..1) of the screen's pixel grid aliased by the webcam

	YCbCr bool  // produce *image.YCbCr (4:2:0, neutral chroma) instead of *image.Gray
	Seed  int64 // layout, background and noise all derive from it
}

// ErrSceneOptions reports options that cannot be rendered.
var ErrSceneOptions = errors.New("invalid scene options")

func (o SceneOptions) withDefaults() (SceneOptions, error) {
	if o.Width == 0 && o.Height == 0 {
		o.Width, o.Height = 1280, 720
	}
	if o.ModulePx == 0 {
		o.ModulePx = 4
	}
	if o.Contrast == 0 {
		o.Contrast = 1
	}
	switch {
	case o.Width < 64 || o.Height < 64 || o.Width > 8192 || o.Height > 8192:
		return o, fmt.Errorf("%w: frame size %dx%d outside 64..8192", ErrSceneOptions, o.Width, o.Height)
	case o.ModulePx < 0.5 || o.ModulePx > 64:
		return o, fmt.Errorf("%w: module size %g px outside 0.5..64", ErrSceneOptions, o.ModulePx)
	case o.PerspectiveDeg < 0 || o.PerspectiveDeg > 60:
		return o, fmt.Errorf("%w: perspective %g° outside 0..60", ErrSceneOptions, o.PerspectiveDeg)
	case o.Blur < 0 || o.Blur > 20 || o.Noise < 0 || o.Noise > 128:
		return o, fmt.Errorf("%w: blur %g or noise %g out of range", ErrSceneOptions, o.Blur, o.Noise)
	case o.Contrast < 0 || o.Contrast > 1 || o.Glare < 0 || o.Glare > 1 || o.Moire < 0 || o.Moire > 1:
		return o, fmt.Errorf("%w: contrast, glare and moire must be within 0..1", ErrSceneOptions)
	}
	return o, nil
}

// Render draws one frame of the scene: *image.Gray, or *image.YCbCr when opts.YCbCr is set.
func Render(opts SceneOptions) (image.Image, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	base, err := renderBase(o)
	if err != nil {
		return nil, err
	}
	pix := make([]byte, len(base))
	copy(pix, base)
	newNoise(o.Seed).add(pix, o.Noise)
	return wrapPlane(pix, o), nil
}

// wrapPlane returns pix (Width×Height grey) as the image type o asks for, without copying it.
func wrapPlane(pix []byte, o SceneOptions) image.Image {
	r := image.Rect(0, 0, o.Width, o.Height)
	if !o.YCbCr {
		return &image.Gray{Pix: pix, Stride: o.Width, Rect: r}
	}
	cw, ch := (o.Width+1)/2, (o.Height+1)/2
	chroma := make([]byte, 2*cw*ch)
	for i := range chroma {
		chroma[i] = 128
	}
	return &image.YCbCr{
		Y: pix, Cb: chroma[:cw*ch], Cr: chroma[cw*ch:],
		YStride: o.Width, CStride: cw,
		SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: r,
	}
}

// SyntheticSource is a Source that shows one scene steadily, like a phone held still in
// front of the webcam: every frame has the same picture with fresh sensor noise.
// The scene is rendered once; each frame then costs one copy plus noise.
type SyntheticSource struct {
	opts     SceneOptions
	base     []byte
	interval time.Duration

	mu     sync.Mutex
	seq    uint64
	last   time.Time
	closed bool
}

// ErrSourceClosed is returned by Next after Close.
var ErrSourceClosed = errors.New("camera source closed")

// NewSyntheticSource renders opts once. fps > 0 paces Next like a real camera; fps == 0
// returns frames as fast as they are asked for (benchmarks, tests).
func NewSyntheticSource(opts SceneOptions, fps float64) (*SyntheticSource, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if fps < 0 {
		return nil, fmt.Errorf("%w: fps %g is negative", ErrSceneOptions, fps)
	}
	base, err := renderBase(o)
	if err != nil {
		return nil, err
	}
	s := &SyntheticSource{opts: o, base: base}
	if fps > 0 {
		s.interval = time.Duration(float64(time.Second) / fps)
	}
	return s, nil
}

// Next returns the next frame. Frame n's noise is seeded by Seed+n, so a run is reproducible.
func (s *SyntheticSource) Next(ctx context.Context) (Frame, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Frame{}, ErrSourceClosed
	}
	if s.interval > 0 && !s.last.IsZero() {
		wait := time.Until(s.last.Add(s.interval))
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return Frame{}, ctx.Err()
			case <-t.C:
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return Frame{}, err
	}
	s.seq++
	s.last = time.Now()
	pix := make([]byte, len(s.base))
	copy(pix, s.base)
	newNoise(s.opts.Seed+int64(s.seq)).add(pix, s.opts.Noise)
	return Frame{Image: wrapPlane(pix, s.opts), Seq: s.seq, Captured: s.last}, nil
}

// Close stops the source; later calls to Next fail with ErrSourceClosed.
func (s *SyntheticSource) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

var _ Source = (*SyntheticSource)(nil)
