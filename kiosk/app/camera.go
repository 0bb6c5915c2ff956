package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ikd-field/ikd/camera"
)

// CameraConfig says where frames come from.
type CameraConfig struct {
	// Device is a V4L2 node ("/dev/video0"), "synthetic" (a phone screen with no code, for a
	// counter without a camera), "replay:DIR" (recorded frames, looped), or "" for none.
	Device string
	Width  int
	Height int
	FPS    float64
	// Source, when set, is used as is and Device is ignored: the demo's scripted citizen,
	// tests. The App closes it.
	Source camera.Source
}

// CameraStatus is the camera's state as the screens show it.
type CameraStatus struct {
	State  camera.State
	Device string // as configured: a V4L2 node, "replay:DIR", "synthetic", "" for none
	Reason string // the failure in the officer's words; "" when there is none
}

// openCamera opens the configured source; nil without a camera. Webcams and replays are
// re-opened after a failure, reporting each change of state to onState.
func openCamera(c CameraConfig, log *slog.Logger, onState func(camera.State, error)) (camera.Source, error) {
	if c.Source != nil {
		return c.Source, nil
	}
	switch {
	case c.Device == "":
		return nil, nil
	case c.Device == "synthetic":
		return camera.NewSyntheticSource(camera.SceneOptions{Width: c.Width, Height: c.Height}, fpsOr(c.FPS, 15))
	case strings.HasPrefix(c.Device, "replay:"):
		dir, opt := strings.TrimPrefix(c.Device, "replay:"), camera.ReplayOptions{FPS: fpsOr(c.FPS, 15)}
		return &camera.Reopener{Logger: log, OnState: onState,
			Open: func(context.Context) (camera.Source, error) { return camera.OpenReplay(dir, opt) }}, nil
	}
	cfg := camera.WebcamConfig{Device: c.Device, Size: camera.Size{Width: c.Width, Height: c.Height}, FPS: c.FPS, Logger: log}
	// A webcam that drops off the USB bus comes back: the reopener retries with backoff.
	return &camera.Reopener{Logger: log, OnState: onState,
		Open: func(context.Context) (camera.Source, error) { return camera.OpenWebcam(cfg) }}, nil
}

func fpsOr(fps, def float64) float64 {
	if fps > 0 {
		return fps
	}
	return def
}

// subscriptionSource reads a bus subscription as a camera.Source, for the QR and face steps.
type subscriptionSource struct{ sub *camera.Subscription }

func (s subscriptionSource) Next(ctx context.Context) (camera.Frame, error) {
	f, err := s.sub.Next(ctx)
	if err != nil {
		return camera.Frame{}, fmt.Errorf("camera: %w", err)
	}
	return f, nil
}

func (s subscriptionSource) Close() error { s.sub.Close(); return nil }
