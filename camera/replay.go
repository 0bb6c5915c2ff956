package camera

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrEmptyReplay is returned for a replay directory or file that holds no frames.
var ErrEmptyReplay = errors.New("no frames to replay")

// ReplayOptions control playback.
type ReplayOptions struct {
	// FPS paces playback; zero returns frames as fast as Next is called.
	FPS float64
	// Once stops with io.EOF after the last frame instead of looping.
	Once bool
}

// Replay is a Source that plays back recorded frames: a directory of PNG/JPEG images in
// name order, or an MJPEG file (JPEG images back to back). It loops unless Once is set.
type Replay struct {
	frames   []replayFrame
	once     bool
	interval time.Duration
	next     int       // index of the next frame to play
	due      time.Time // when the next frame is due, with pacing
	seq      uint64
}

var _ Source = (*Replay)(nil)

// replayFrame is one recorded frame, decoded on demand so long recordings stay on disk.
type replayFrame struct {
	name   string // for errors: a file path, or "file.mjpeg frame 3"
	decode func() (image.Image, error)
}

// OpenReplay opens a directory of images or an MJPEG file. Every frame's structure is
// checked here, so a corrupt or unreadable file is reported up front, by name.
func OpenReplay(path string, opt ReplayOptions) (*Replay, error) {
	if opt.FPS < 0 {
		return nil, fmt.Errorf("replay %s: negative frame rate %v", path, opt.FPS)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	var frames []replayFrame
	if st.IsDir() {
		frames, err = imageDirFrames(path)
	} else {
		frames, err = mjpegFileFrames(path)
	}
	if err != nil {
		return nil, err
	}
	r := &Replay{frames: frames, once: opt.Once}
	if opt.FPS > 0 {
		r.interval = time.Duration(float64(time.Second) / opt.FPS)
	}
	return r, nil
}

// imageDirFrames lists the .png, .jpg and .jpeg files of dir in name order; other files
// are ignored.
func imageDirFrames(dir string) ([]replayFrame, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	var frames []replayFrame
	for _, e := range entries { // ReadDir sorts by name
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || ext != ".png" && ext != ".jpg" && ext != ".jpeg" {
			continue
		}
		file := filepath.Join(dir, e.Name())
		if err := checkImageFile(file, ext); err != nil {
			return nil, fmt.Errorf("replay %s: %w", file, err)
		}
		frames = append(frames, replayFrame{name: file, decode: func() (image.Image, error) {
			return decodeImageFile(file, ext)
		}})
	}
	if len(frames) == 0 {
		return nil, fmt.Errorf("replay %s: %w (want .png, .jpg or .jpeg files)", dir, ErrEmptyReplay)
	}
	return frames, nil
}

// checkImageFile reads the file and checks its header and, for JPEG, its marker structure.
func checkImageFile(file, ext string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if ext == ".png" {
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("bad PNG: %w", err)
		}
		// The header's size decides the allocation at decode time (a few bytes can declare
		// gigabytes): refuse what no camera delivers, as for MJPEG frames.
		if cfg.Width > maxSide || cfg.Height > maxSide {
			return fmt.Errorf("bad PNG: frame size %dx%d out of range", cfg.Width, cfg.Height)
		}
		return nil
	}
	_, err = scanJPEG(data)
	return err
}

func decodeImageFile(file, ext string) (image.Image, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if ext == ".png" {
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("bad PNG: %w", err)
		}
		return img, nil
	}
	return DecodeMJPEG(data)
}

// mjpegFileFrames splits an MJPEG file into frames held in memory.
func mjpegFileFrames(file string) ([]replayFrame, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("replay %s: %w (empty file)", file, ErrEmptyReplay)
	}
	jpegs, err := SplitMJPEG(data)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", file, err)
	}
	frames := make([]replayFrame, len(jpegs))
	for i, j := range jpegs {
		frames[i] = replayFrame{
			name:   fmt.Sprintf("%s frame %d", file, i+1),
			decode: func() (image.Image, error) { return DecodeMJPEG(j) },
		}
	}
	return frames, nil
}

// Len is the number of frames in one pass.
func (r *Replay) Len() int { return len(r.frames) }

// Next returns the next frame, waiting for its turn when a frame rate is set. With Once,
// it returns io.EOF after the last frame.
func (r *Replay) Next(ctx context.Context) (Frame, error) {
	if err := ctx.Err(); err != nil {
		return Frame{}, err
	}
	if r.next == len(r.frames) {
		if r.once {
			return Frame{}, io.EOF
		}
		r.next = 0
	}
	if err := r.pace(ctx); err != nil {
		return Frame{}, err
	}
	fr := r.frames[r.next]
	img, err := fr.decode()
	if err != nil {
		return Frame{}, fmt.Errorf("replay %s: %w", fr.name, err)
	}
	r.next++
	r.seq++
	return Frame{Image: img, Seq: r.seq, Captured: time.Now()}, nil
}

// pace waits until the next frame is due. A consumer that falls behind gets the next
// frame at once, not a burst to catch up.
func (r *Replay) pace(ctx context.Context) error {
	if r.interval == 0 {
		return nil
	}
	now := time.Now()
	if r.due.Before(now) {
		r.due = now
	}
	if wait := r.due.Sub(now); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	r.due = r.due.Add(r.interval)
	return nil
}

// Close releases nothing (files are read per frame); it exists to satisfy Source.
func (r *Replay) Close() error { return nil }
