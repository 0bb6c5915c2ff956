package camera

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// WebcamConfig says which camera to open and how.
type WebcamConfig struct {
	// Device is the V4L2 node; empty means DefaultDevice.
	Device string
	// Size is the wanted frame size; the closest size the camera offers is used.
	// Zero means DefaultSize.
	Size Size
	// FPS asks the driver for a frame rate; zero keeps the driver's default.
	FPS float64
	// FrameTimeout is how long Next waits for a frame before reporting ErrDeviceGone;
	// zero means DefaultFrameTimeout.
	FrameTimeout time.Duration
	// Gray delivers *image.Gray frames (luminance only) for sources that feed analysers only.
	Gray bool
	// Logger receives warnings (skipped corrupt frames, an ignored frame rate); nil means slog.Default().
	Logger *slog.Logger
}

// Defaults for WebcamConfig.
const (
	DefaultDevice       = "/dev/video0"
	DefaultFrameTimeout = 3 * time.Second
)

// DefaultSize is the frame size asked for when none is given: enough for a QR code held
// at arm's length and a face filling a fifth of the picture.
var DefaultSize = Size{1280, 720}

const (
	// waitSlice bounds one blocking wait so ctx is checked at least this often while a
	// camera sends nothing (the library waits in whole seconds).
	waitSlice = time.Second
	// maxBadFrames consecutive undecodable frames end the session: some cameras send a
	// broken first frame, but a stream of them needs a re-open.
	maxBadFrames = 10
)

// Webcam is a Source reading a V4L2 camera. Next and Close must not run concurrently.
type Webcam struct {
	dev          device
	path         string
	format       PixelFormat
	size         Size
	gray         bool
	frameTimeout time.Duration
	log          *slog.Logger
	now          func() time.Time
	seq          uint64
	closed       bool
}

var _ Source = (*Webcam)(nil)

// OpenWebcam opens a camera, negotiates a format (MJPEG preferred, else YUYV) and the
// size closest to the one asked for, and starts streaming.
func OpenWebcam(cfg WebcamConfig) (*Webcam, error) {
	return openWebcam(cfg, openV4L2, time.Now)
}

func openWebcam(cfg WebcamConfig, open openDeviceFunc, now func() time.Time) (*Webcam, error) {
	path := cfg.Device
	if path == "" {
		path = DefaultDevice
	}
	want := cfg.Size
	if want == (Size{}) {
		want = DefaultSize
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	timeout := cfg.FrameTimeout
	if timeout <= 0 {
		timeout = DefaultFrameTimeout
	}

	dev, err := open(path)
	if err != nil {
		return nil, &DeviceError{Device: path, Op: "open", Kind: classifyOpen(err), Err: err}
	}
	w := &Webcam{dev: dev, path: path, gray: cfg.Gray, frameTimeout: timeout, log: log, now: now}
	if err := w.negotiate(want, cfg.FPS); err != nil {
		dev.Close()
		return nil, err
	}
	return w, nil
}

func (w *Webcam) negotiate(want Size, fps float64) error {
	infos := w.dev.Formats()
	offered := make([]PixelFormat, len(infos))
	for i, fi := range infos {
		offered[i] = fi.Format
	}
	format, err := ChooseFormat(offered)
	if err != nil {
		return &DeviceError{Device: w.path, Op: "choose format", Err: err}
	}
	size, err := ClosestSize(w.dev.FrameSizes(format), want)
	if err != nil {
		return &DeviceError{Device: w.path, Op: "choose size for " + format.String(), Err: err}
	}
	if err := w.dev.SetFormat(format, size); err != nil {
		return &DeviceError{Device: w.path, Op: fmt.Sprintf("set format %v %v", format, size), Kind: classifyOpen(err), Err: err}
	}
	if fps > 0 {
		// Many drivers ignore or round the rate; a camera at its own rate is still usable.
		if err := w.dev.SetFrameRate(fps); err != nil {
			w.log.Warn("camera frame rate not set", "device", w.path, "fps", fps, "err", err)
		}
	}
	if err := w.dev.Start(); err != nil {
		return &DeviceError{Device: w.path, Op: "start streaming", Kind: classifyOpen(err), Err: err}
	}
	w.format, w.size = format, size
	return nil
}

// classifyOpen maps an open or setup failure to the sentinel an officer can act on.
func classifyOpen(err error) error {
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENXIO):
		return ErrNoCamera
	case errors.Is(err, unix.EBUSY):
		return ErrCameraBusy
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return ErrCameraPermission
	}
	return nil
}

// Format is the negotiated pixel format.
func (w *Webcam) Format() PixelFormat { return w.format }

// Size is the negotiated frame size.
func (w *Webcam) Size() Size { return w.size }

// Next returns the newest frame. A camera that fails to read or sends no frame within
// the frame timeout yields a *DeviceError matching ErrDeviceGone; the Webcam is then
// unusable and should be closed (Reopener does that and opens it again).
func (w *Webcam) Next(ctx context.Context) (Frame, error) {
	if w.closed {
		return Frame{}, &DeviceError{Device: w.path, Op: "read frame", Err: errors.New("camera is closed")}
	}
	deadline := w.now().Add(w.frameTimeout)
	bad := 0
	for {
		if err := ctx.Err(); err != nil {
			return Frame{}, err
		}
		if !w.now().Before(deadline) {
			return Frame{}, w.gone("wait for frame", fmt.Errorf("no frame for %v", w.frameTimeout))
		}
		err := w.dev.Wait(min(waitSlice, deadline.Sub(w.now())))
		if errors.Is(err, errWaitTimeout) {
			continue
		}
		if err != nil {
			return Frame{}, w.gone("wait for frame", err)
		}
		var img image.Image
		err = w.dev.Read(func(buf []byte) error {
			var derr error
			img, derr = w.decode(buf)
			return derr
		})
		switch {
		case err == nil:
			w.seq++
			return Frame{Image: img, Seq: w.seq, Captured: w.now()}, nil
		case errors.Is(err, errNoFrame):
			continue
		case errors.Is(err, ErrBadJPEG), errors.Is(err, ErrBadYUYV):
			bad++
			if bad >= maxBadFrames {
				return Frame{}, &DeviceError{Device: w.path, Op: "decode frame", Kind: ErrBadFrames, Err: err}
			}
			w.log.Warn("camera frame skipped", "device", w.path, "err", err)
		default:
			return Frame{}, w.gone("read frame", err)
		}
	}
}

func (w *Webcam) gone(op string, err error) error {
	return &DeviceError{Device: w.path, Op: op, Kind: ErrDeviceGone, Err: err}
}

func (w *Webcam) decode(buf []byte) (image.Image, error) {
	if w.format == FormatYUYV {
		if w.gray {
			return YUYVToGray(buf, w.size.Width, w.size.Height)
		}
		return YUYVToYCbCr(buf, w.size.Width, w.size.Height)
	}
	img, err := DecodeMJPEG(buf)
	if err != nil {
		return nil, err
	}
	if yc, ok := img.(*image.YCbCr); ok && w.gray {
		// The Y plane already is the grey picture; share it rather than copy.
		return &image.Gray{Pix: yc.Y, Stride: yc.YStride, Rect: yc.Rect}, nil
	}
	return img, nil
}

// Close stops streaming and releases the device. It is safe to call more than once.
func (w *Webcam) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if err := w.dev.Close(); err != nil {
		return &DeviceError{Device: w.path, Op: "close", Err: err}
	}
	return nil
}

// DeviceInfo describes one /dev/video* node.
type DeviceInfo struct {
	Path    string
	Name    string
	Bus     string
	Formats []FormatSizes
	// Err is why the node cannot be used as a camera (for example a UVC metadata node);
	// nil for a usable camera.
	Err error
}

// FormatSizes is one pixel format with the frame sizes offered for it.
type FormatSizes struct {
	FormatInfo
	Sizes []SizeRange
}

// ListDevices describes every /dev/video* node. When none is a usable camera it returns
// ErrNoCamera together with the list, so callers can still show why each node failed.
func ListDevices() ([]DeviceInfo, error) {
	return listDevices("/dev/video*", openV4L2)
}

func listDevices(pattern string, open openDeviceFunc) ([]DeviceInfo, error) {
	paths, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("list cameras: %w", err)
	}
	// Natural order: video2 before video10.
	sort.Slice(paths, func(i, j int) bool {
		if len(paths[i]) != len(paths[j]) {
			return len(paths[i]) < len(paths[j])
		}
		return paths[i] < paths[j]
	})
	var infos []DeviceInfo
	usable := 0
	for _, p := range paths {
		info := DeviceInfo{Path: p}
		dev, err := open(p)
		if err != nil {
			info.Err = err
			infos = append(infos, info)
			continue
		}
		info.Name, info.Bus = dev.Name(), dev.Bus()
		for _, f := range dev.Formats() {
			info.Formats = append(info.Formats, FormatSizes{FormatInfo: f, Sizes: dev.FrameSizes(f.Format)})
		}
		if err := dev.Close(); err != nil {
			info.Err = fmt.Errorf("close: %w", err)
		}
		if info.Err == nil {
			usable++
		}
		infos = append(infos, info)
	}
	if usable == 0 {
		return infos, fmt.Errorf("%w (no usable %s device)", ErrNoCamera, pattern)
	}
	return infos, nil
}
