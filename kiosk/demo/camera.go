package demo

import (
	"context"
	"sync"
	"time"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/face"
)

// demoCamera is what the demo's camera sees: the citizen's phone showing the QR, then the
// citizen's face, or a photo someone holds up. It is the App's camera.Source and its Citizen.
//
// While a face is in view, a frame is produced once the kiosk analysed the one before
// (FacePrompt), or after idleFrame when no analysis is running (the preview, a face step
// about to start), and frames are stamped as a 15 fps camera would: the liveness
// challenge's timeout then counts camera frames, not how fast this (shared, possibly
// loaded) machine analyses them.
type demoCamera struct {
	mu       sync.Mutex
	phone    *camera.SyntheticSource // the phone screen: a QR or none
	faces    *demoFaces              // the citizen's face; nil without models and photos
	held     camera.Source           // a photo held up; nil unless the photo attack runs
	showFace bool
	analysed chan struct{} // the last face frame was analysed: show the next
	changed  chan struct{} // closed and replaced when the scene changes
	// settled is closed once the bus has published a frame of the current scene: Next is
	// asked again after one was delivered, so no frame of the old scene can follow.
	settled   chan struct{}
	delivered int // frames of the current scene
	seq       uint64
	start     time.Time
}

const demoFPS = 15

// idleFrame is how long a face scene waits for an analysis before showing the next frame
// anyway; an analysis slower than this only makes the frames' timestamps advance faster.
const idleFrame = 300 * time.Millisecond

var (
	_ camera.Source = (*demoCamera)(nil)
	_ app.Citizen   = (*demoCamera)(nil)
)

func newDemoCamera() (*demoCamera, error) {
	c := &demoCamera{analysed: make(chan struct{}, 1), changed: make(chan struct{}), settled: make(chan struct{}), start: time.Now()}
	return c, c.ShowPhone("")
}

// ShowPhone shows the phone's screen with the QR of text ("" for none).
func (c *demoCamera) ShowPhone(text string) error {
	// The phone as a webcam sees it: a slight blur, sensor noise and the screen's moiré.
	src, err := camera.NewSyntheticSource(camera.SceneOptions{Text: text, ModulePx: 4, Blur: 0.8, Noise: 6, Moire: 0.3, Seed: 1}, demoFPS)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.phone, c.held, c.showFace = src, nil, false
	c.sceneChanged()
	return nil
}

// showHeld shows src, a photo held up to the camera, and returns once the bus published its
// first frame.
func (c *demoCamera) showHeld(ctx context.Context, src camera.Source) error {
	c.mu.Lock()
	c.held, c.showFace = src, false
	c.sceneChanged()
	settled := c.settled
	c.mu.Unlock()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-settled:
		return nil
	}
}

// sceneChanged lets a new scene's first frame through at once; c.mu held.
func (c *demoCamera) sceneChanged() {
	select {
	case c.analysed <- struct{}{}:
	default:
	}
	close(c.changed)
	c.changed, c.settled, c.delivered = make(chan struct{}), make(chan struct{}), 0
}

// QRAccepted implements Citizen: the citizen puts the phone away and faces the camera.
func (c *demoCamera) QRAccepted() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.showFace = c.faces != nil
	c.sceneChanged()
}

// FacePrompt implements Citizen: the citizen follows the prompt, and the next frame may come.
func (c *demoCamera) FacePrompt(p face.Progress) {
	c.mu.Lock()
	if c.faces != nil {
		c.faces.watch(p)
	}
	c.mu.Unlock()
	select {
	case c.analysed <- struct{}{}:
	default:
	}
}

func (c *demoCamera) Next(ctx context.Context) (camera.Frame, error) {
	c.mu.Lock()
	if c.delivered > 0 {
		select {
		case <-c.settled:
		default:
			close(c.settled)
		}
	}
	phone, faces, held, showFace, changed := c.phone, c.faces, c.held, c.showFace, c.changed
	c.mu.Unlock()
	var f camera.Frame
	var err error
	switch {
	case held != nil || showFace:
		idle := time.NewTimer(idleFrame)
		select { // lockstep with the analysis, see the type's comment
		case <-ctx.Done():
			idle.Stop()
			return camera.Frame{}, ctx.Err()
		case <-changed:
			idle.Stop()
			return c.Next(ctx)
		case <-c.analysed:
		case <-idle.C:
		}
		idle.Stop()
		if held != nil {
			f, err = held.Next(ctx)
		} else {
			c.mu.Lock()
			f, err = faces.next(ctx)
			c.mu.Unlock()
		}
	default:
		f, err = phone.Next(ctx)
	}
	if err != nil {
		return camera.Frame{}, err
	}
	c.mu.Lock()
	if c.changed != changed { // the scene changed while this frame was made: it shows the old one
		c.mu.Unlock()
		return c.Next(ctx)
	}
	c.seq++
	c.delivered++
	f.Seq, f.Captured = c.seq, c.start.Add(time.Duration(c.seq)*time.Second/demoFPS)
	c.mu.Unlock()
	return f, nil
}

func (c *demoCamera) Close() error { return nil }
