package camera

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when a fake device waits.
type fakeClock struct{ t time.Time }

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) now() time.Time { return c.t }

// step is one scripted event of a fakeDevice: a frame, or a wait or read failure.
type step struct {
	frame   []byte
	waitErr error
	readErr error
}

// fakeDevice is a scripted V4L2 device. Each Wait/Read pair consumes one step; once the
// script is exhausted the device behaves like a camera that sends nothing.
type fakeDevice struct {
	name    string
	formats []FormatInfo
	sizes   map[PixelFormat][]SizeRange
	setErr  error // returned by SetFormat
	fpsErr  error // returned by SetFrameRate
	steps   []step
	clock   *fakeClock
	onRead  func() // called when a read step is consumed

	gotFormat PixelFormat
	gotSize   Size
	gotFPS    float64
	started   bool
	closed    int
}

var _ device = (*fakeDevice)(nil)

func (d *fakeDevice) Name() string          { return d.name }
func (d *fakeDevice) Bus() string           { return "fake:" + d.name }
func (d *fakeDevice) Formats() []FormatInfo { return d.formats }
func (d *fakeDevice) FrameSizes(f PixelFormat) []SizeRange {
	return d.sizes[f]
}

func (d *fakeDevice) SetFormat(f PixelFormat, s Size) error {
	d.gotFormat, d.gotSize = f, s
	return d.setErr
}

func (d *fakeDevice) SetFrameRate(fps float64) error {
	d.gotFPS = fps
	return d.fpsErr
}

func (d *fakeDevice) Start() error {
	d.started = true
	return nil
}

func (d *fakeDevice) Wait(timeout time.Duration) error {
	if len(d.steps) == 0 || d.steps[0].waitErr != nil {
		err := error(errWaitTimeout)
		if len(d.steps) > 0 {
			err = d.steps[0].waitErr
			d.steps = d.steps[1:]
		}
		if err == errWaitTimeout {
			d.clock.t = d.clock.t.Add(timeout)
		}
		return err
	}
	return nil
}

func (d *fakeDevice) Read(use func([]byte) error) error {
	s := d.steps[0]
	d.steps = d.steps[1:]
	if d.onRead != nil {
		d.onRead()
	}
	if s.readErr != nil {
		return s.readErr
	}
	return use(s.frame)
}

func (d *fakeDevice) Close() error {
	d.closed++
	return nil
}

// yuyvCamera is a fake camera offering only YUYV at 8x4.
func yuyvCamera(clock *fakeClock, steps ...step) *fakeDevice {
	return &fakeDevice{
		name:    "YUYV cam",
		formats: []FormatInfo{{FormatYUYV, "YUYV 4:2:2"}},
		sizes:   map[PixelFormat][]SizeRange{FormatYUYV: {fixed(8, 4)}},
		steps:   steps,
		clock:   clock,
	}
}

func fixed(w, h int) SizeRange { return SizeRange{Min: Size{w, h}, Max: Size{w, h}} }

// yuyvFrame is an 8x4 YUYV frame whose luminance is all y.
func yuyvFrame(y byte) []byte {
	b := make([]byte, 8*4*2)
	for i := 0; i < len(b); i += 2 {
		b[i], b[i+1] = y, 128
	}
	return b
}

// grayOf returns the luminance of the top-left pixel of a frame image.
func grayOf(t *testing.T, img image.Image) byte {
	t.Helper()
	return color.GrayModel.Convert(img.At(img.Bounds().Min.X, img.Bounds().Min.Y)).(color.Gray).Y
}

// makeJPEG encodes a w×h picture of flat luminance y with a diagonal gradient, so frames
// differ and decoding is checked on real entropy-coded data.
func makeJPEG(t testing.TB, w, h int, y byte) []byte {
	t.Helper()
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = y
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = 128, 128
	}
	img.Y[len(img.Y)-1] = y / 2 // some AC content
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
