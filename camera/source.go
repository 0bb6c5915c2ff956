// Package camera provides frame sources for the kiosk: a V4L2 webcam, a replay of recorded
// frames, and synthetic scenes, plus a latest-frame-wins bus that fans frames out to the
// preview and to analysers.
package camera

import (
	"context"
	"image"
	"time"
)

// Frame is one captured picture.
type Frame struct {
	// Image is the picture. Webcam YUYV frames arrive as *image.YCbCr so analysers that
	// only need luminance (QR, face detection) read the Y plane without a conversion.
	// The frame bus hands one Image to every subscriber, so treat it as read-only.
	Image image.Image
	// Seq counts frames from one source, starting at 1.
	Seq uint64
	// Captured is when the source produced the frame.
	Captured time.Time
}

// Source produces frames.
type Source interface {
	// Next blocks until the next frame is ready, ctx ends, or the source fails.
	// After a failure the source may be unusable; callers re-open it.
	Next(ctx context.Context) (Frame, error)
	// Close releases the device or file. It is safe to call more than once.
	Close() error
}
