package camera

import (
	"errors"
	"sort"
	"time"

	"github.com/blackjack/webcam"
	"golang.org/x/sys/unix"
)

// device is the slice of V4L2 the webcam source uses. v4l2Device implements it with
// blackjack/webcam; tests use a fake so disconnects and timeouts can be staged.
type device interface {
	// Name is the driver's card name ("HD Webcam C270").
	Name() string
	// Bus is where the device sits ("usb-0000:00:14.0-1"), to tell identical cameras apart.
	Bus() string
	// Formats lists the pixel formats the device offers, with the driver's descriptions.
	Formats() []FormatInfo
	// FrameSizes lists the sizes offered for one format.
	FrameSizes(f PixelFormat) []SizeRange
	// SetFormat selects format and size; it must be called before Start.
	SetFormat(f PixelFormat, s Size) error
	// SetFrameRate asks for a frame rate; drivers may round or ignore it.
	SetFrameRate(fps float64) error
	// Start begins streaming.
	Start() error
	// Wait blocks until a frame can be read, or returns errWaitTimeout after timeout.
	Wait(timeout time.Duration) error
	// Read passes the next frame's bytes to use and then returns the buffer to the driver,
	// so use must not keep buf. It returns errNoFrame when no frame is ready after all.
	Read(use func(buf []byte) error) error
	// Close stops streaming and releases the device.
	Close() error
}

// openDeviceFunc opens a device node.
type openDeviceFunc func(path string) (device, error)

var (
	errWaitTimeout = errors.New("no frame within the wait")
	errNoFrame     = errors.New("no frame ready")
)

// FormatInfo is one pixel format a device offers.
type FormatInfo struct {
	Format      PixelFormat
	Description string
}

// v4l2Device adapts *webcam.Webcam to device.
type v4l2Device struct {
	cam *webcam.Webcam
}

func openV4L2(path string) (device, error) {
	cam, err := webcam.Open(path)
	if err != nil {
		return nil, err
	}
	return &v4l2Device{cam: cam}, nil
}

func (d *v4l2Device) Name() string {
	name, err := d.cam.GetName()
	if err != nil {
		return ""
	}
	return name
}

func (d *v4l2Device) Bus() string {
	bus, err := d.cam.GetBusInfo()
	if err != nil {
		return ""
	}
	return bus
}

func (d *v4l2Device) Formats() []FormatInfo {
	var out []FormatInfo
	for f, desc := range d.cam.GetSupportedFormats() {
		out = append(out, FormatInfo{Format: PixelFormat(f), Description: desc})
	}
	// The library returns a map; keep the listing stable.
	sort.Slice(out, func(i, j int) bool { return out[i].Format < out[j].Format })
	return out
}

func (d *v4l2Device) FrameSizes(f PixelFormat) []SizeRange {
	var out []SizeRange
	for _, s := range d.cam.GetSupportedFrameSizes(webcam.PixelFormat(f)) {
		out = append(out, SizeRange{
			Min:  Size{int(s.MinWidth), int(s.MinHeight)},
			Max:  Size{int(s.MaxWidth), int(s.MaxHeight)},
			Step: Size{int(s.StepWidth), int(s.StepHeight)},
		})
	}
	return out
}

func (d *v4l2Device) SetFormat(f PixelFormat, s Size) error {
	got, _, _, err := d.cam.SetImageFormat(webcam.PixelFormat(f), uint32(s.Width), uint32(s.Height))
	if err != nil {
		return err
	}
	// blackjack/webcam v0.6.1 returns the requested width and height rather than the
	// driver's, so only the format can be checked here; frame decoding checks the size.
	if PixelFormat(got) != f {
		return errors.New("driver switched the pixel format to " + PixelFormat(got).String())
	}
	return nil
}

func (d *v4l2Device) SetFrameRate(fps float64) error { return d.cam.SetFramerate(float32(fps)) }

// streamBuffers is the number of driver buffers. Few buffers keep the newest frame close:
// with the library's default (as many as the driver allows, 32 for uvcvideo) a reader
// that falls behind would see frames a second old.
const streamBuffers = 4

func (d *v4l2Device) Start() error {
	if err := d.cam.SetBufferCount(streamBuffers); err != nil {
		return err
	}
	return d.cam.StartStreaming()
}

func (d *v4l2Device) Wait(timeout time.Duration) error {
	// The library waits in whole seconds.
	secs := uint32((timeout + time.Second - 1) / time.Second)
	err := d.cam.WaitForFrame(secs)
	var to *webcam.Timeout
	if errors.As(err, &to) {
		return errWaitTimeout
	}
	return err
}

func (d *v4l2Device) Read(use func(buf []byte) error) error {
	buf, index, err := d.cam.GetFrame()
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
		return errNoFrame
	}
	if err != nil {
		return err
	}
	// Latest frame wins already here: if more frames are queued, hand back the older
	// ones unread. An error on these extra reads shows up on the next Read.
	for {
		next, nextIndex, err := d.cam.GetFrame()
		if err != nil {
			break
		}
		older := index
		if len(next) == 0 {
			older = nextIndex
		} else {
			buf, index = next, nextIndex
		}
		if err := d.cam.ReleaseFrame(older); err != nil {
			return err
		}
	}
	useErr := errNoFrame
	if len(buf) > 0 {
		useErr = use(buf)
	}
	if err := d.cam.ReleaseFrame(index); err != nil {
		return err
	}
	return useErr
}

func (d *v4l2Device) Close() error { return d.cam.Close() }
