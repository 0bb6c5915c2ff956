package camera

import (
	"github.com/ikd-field/ikd/kiosk"

	"context"
	"errors"
	"image"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// openFake opens a Webcam on dev, or fails the test.
func openFake(t *testing.T, dev *fakeDevice, cfg WebcamConfig) *Webcam {
	t.Helper()
	cfg.Logger = quiet
	w, err := openWebcam(cfg, func(string) (device, error) { return dev, nil }, dev.clock.now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func TestOpenWebcamNegotiates(t *testing.T) {
	clock := newFakeClock()
	t.Run("PrefersMJPEGAndClosestSize", func(t *testing.T) {
		dev := &fakeDevice{
			clock:   clock,
			formats: []FormatInfo{{FormatYUYV, "YUYV 4:2:2"}, {FormatMJPEG, "Motion-JPEG"}},
			sizes: map[PixelFormat][]SizeRange{
				FormatYUYV:  {fixed(640, 480)},
				FormatMJPEG: {fixed(640, 480), fixed(1280, 720), fixed(1920, 1080)},
			},
		}
		w := openFake(t, dev, WebcamConfig{Size: Size{1280, 800}, FPS: 15})
		if w.Format() != FormatMJPEG || w.Size() != (Size{1280, 720}) {
			t.Fatalf("negotiated %v %v, want MJPG 1280x720", w.Format(), w.Size())
		}
		if dev.gotFormat != FormatMJPEG || dev.gotSize != (Size{1280, 720}) || dev.gotFPS != 15 || !dev.started {
			t.Fatalf("device got %v %v fps %v started %v", dev.gotFormat, dev.gotSize, dev.gotFPS, dev.started)
		}
	})
	t.Run("DefaultsTo720p", func(t *testing.T) {
		dev := yuyvCamera(clock)
		dev.sizes[FormatYUYV] = []SizeRange{fixed(640, 480), fixed(1280, 720)}
		w := openFake(t, dev, WebcamConfig{})
		if w.Size() != DefaultSize || dev.gotFPS != 0 {
			t.Fatalf("size %v fps %v, want %v and the driver's rate", w.Size(), dev.gotFPS, DefaultSize)
		}
	})
	t.Run("FrameRateRefusedIsNotFatal", func(t *testing.T) {
		dev := yuyvCamera(clock)
		dev.fpsErr = unix.EINVAL
		openFake(t, dev, WebcamConfig{FPS: 60})
	})
}

func TestOpenWebcamErrors(t *testing.T) {
	clock := newFakeClock()
	tests := []struct {
		name  string
		open  openDeviceFunc
		kind  error
		inMsg string
	}{
		{"NoDeviceNode", failOpen(unix.ENOENT), ErrNoCamera, "/dev/video7"},
		{"Busy", failOpen(unix.EBUSY), ErrCameraBusy, "busy"},
		{"NoPermission", failOpen(unix.EACCES), ErrCameraPermission, "permission"},
		{"OnlyH264", openDev(&fakeDevice{clock: clock, formats: []FormatInfo{{fourCC('H', '2', '6', '4'), "H.264"}}}), ErrUnsupportedCamera, "H264"},
		{"NoSizes", openDev(&fakeDevice{clock: clock, formats: []FormatInfo{{FormatYUYV, ""}}}), ErrUnsupportedCamera, "YUYV"},
		{"SetFormatBusy", openDev(&fakeDevice{clock: clock, formats: []FormatInfo{{FormatYUYV, ""}},
			sizes: map[PixelFormat][]SizeRange{FormatYUYV: {fixed(8, 4)}}, setErr: unix.EBUSY}), ErrCameraBusy, "set format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := openWebcam(WebcamConfig{Device: "/dev/video7", Logger: quiet}, tc.open, clock.now)
			if err == nil {
				w.Close()
				t.Fatal("open succeeded")
			}
			var de *DeviceError
			if !errors.As(err, &de) || !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.inMsg) {
				t.Fatalf("err = %v, want a *DeviceError matching %v and mentioning %q", err, tc.kind, tc.inMsg)
			}
		})
	}
	t.Run("DeviceClosedAfterFailedNegotiation", func(t *testing.T) {
		dev := &fakeDevice{clock: clock, formats: []FormatInfo{{FormatYUYV, ""}}}
		if _, err := openWebcam(WebcamConfig{Logger: quiet}, openDev(dev), clock.now); err == nil {
			t.Fatal("open succeeded")
		}
		if dev.closed != 1 {
			t.Fatalf("device closed %d times, want 1", dev.closed)
		}
	})
}

func failOpen(err error) openDeviceFunc {
	return func(string) (device, error) { return nil, err }
}

func openDev(d *fakeDevice) openDeviceFunc {
	return func(string) (device, error) { return d, nil }
}

func TestWebcamNext(t *testing.T) {
	ctx := context.Background()
	t.Run("YUYVFrames", func(t *testing.T) {
		clock := newFakeClock()
		w := openFake(t, yuyvCamera(clock, step{frame: yuyvFrame(50)}, step{waitErr: errWaitTimeout}, step{frame: yuyvFrame(60)}), WebcamConfig{})
		for i, want := range []byte{50, 60} {
			f, err := w.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			yc, ok := f.Image.(*image.YCbCr)
			if !ok || yc.SubsampleRatio != image.YCbCrSubsampleRatio422 {
				t.Fatalf("frame is %T, want 4:2:2 *image.YCbCr", f.Image)
			}
			if f.Seq != uint64(i+1) || yc.Y[0] != want || !f.Captured.Equal(clock.now()) {
				t.Fatalf("frame %d: seq %d Y %d captured %v", i, f.Seq, yc.Y[0], f.Captured)
			}
		}
	})
	t.Run("GrayYUYV", func(t *testing.T) {
		w := openFake(t, yuyvCamera(newFakeClock(), step{frame: yuyvFrame(77)}), WebcamConfig{Gray: true})
		f, err := w.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if g, ok := f.Image.(*image.Gray); !ok || g.Pix[0] != 77 {
			t.Fatalf("frame is %T, want *image.Gray of 77", f.Image)
		}
	})
	t.Run("MJPEGWithoutHuffmanTables", func(t *testing.T) {
		dev := &fakeDevice{
			clock:   newFakeClock(),
			formats: []FormatInfo{{FormatMJPEG, "Motion-JPEG"}},
			sizes:   map[PixelFormat][]SizeRange{FormatMJPEG: {fixed(32, 16)}},
			steps:   []step{{frame: stripDHT(t, makeJPEG(t, 32, 16, 180))}},
		}
		for _, gray := range []bool{false, true} {
			dev.steps = []step{{frame: stripDHT(t, makeJPEG(t, 32, 16, 180))}}
			w := openFake(t, dev, WebcamConfig{Gray: gray})
			f, err := w.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if y := grayOf(t, f.Image); y < 175 || y > 185 || f.Image.Bounds().Dx() != 32 {
				t.Fatalf("gray=%v: got %T %v luminance %d, want 32 wide about 180", gray, f.Image, f.Image.Bounds(), y)
			}
			if _, isGray := f.Image.(*image.Gray); isGray != gray {
				t.Fatalf("gray=%v: frame is %T", gray, f.Image)
			}
		}
	})
	t.Run("CorruptFirstFrameSkipped", func(t *testing.T) {
		w := openFake(t, yuyvCamera(newFakeClock(), step{frame: []byte{1, 2, 3}}, step{frame: yuyvFrame(90)}), WebcamConfig{})
		f, err := w.Next(ctx)
		if err != nil || f.Image.(*image.YCbCr).Y[0] != 90 || f.Seq != 1 {
			t.Fatalf("got seq %d, %v; want the good frame as seq 1", f.Seq, err)
		}
	})
	t.Run("EmptyBufferIsNotAFrame", func(t *testing.T) {
		w := openFake(t, yuyvCamera(newFakeClock(), step{readErr: errNoFrame}, step{frame: yuyvFrame(33)}), WebcamConfig{})
		if f, err := w.Next(ctx); err != nil || f.Image.(*image.YCbCr).Y[0] != 33 {
			t.Fatalf("got %v, want the frame after the empty buffer", err)
		}
	})
	t.Run("OnlyCorruptFrames", func(t *testing.T) {
		steps := make([]step, maxBadFrames)
		for i := range steps {
			steps[i] = step{frame: yuyvFrame(1)[:10]}
		}
		w := openFake(t, yuyvCamera(newFakeClock(), steps...), WebcamConfig{})
		_, err := w.Next(ctx)
		if !errors.Is(err, ErrBadFrames) || !errors.Is(err, ErrBadYUYV) {
			t.Fatalf("err = %v, want ErrBadFrames wrapping ErrBadYUYV", err)
		}
	})
	t.Run("ClosedWebcam", func(t *testing.T) {
		dev := yuyvCamera(newFakeClock(), step{frame: yuyvFrame(1)})
		w := openFake(t, dev, WebcamConfig{})
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil || dev.closed != 1 {
			t.Fatalf("second Close: %v, device closed %d times", err, dev.closed)
		}
		if _, err := w.Next(ctx); err == nil {
			t.Fatal("Next on a closed webcam succeeded")
		}
	})
}

func TestWebcamDeviceGone(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		cause error
	}{
		{"UnpluggedDuringRead", []step{{frame: yuyvFrame(1)}, {readErr: unix.ENODEV}}, unix.ENODEV},
		{"IOError", []step{{frame: yuyvFrame(1)}, {readErr: unix.EIO}}, unix.EIO},
		{"PollFails", []step{{frame: yuyvFrame(1)}, {waitErr: unix.EBADF}}, unix.EBADF},
		{"NoFrameWithinTimeout", []step{{frame: yuyvFrame(1)}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			w := openFake(t, yuyvCamera(clock, tc.steps...), WebcamConfig{Device: "/dev/video3", FrameTimeout: 5 * time.Second})
			if _, err := w.Next(context.Background()); err != nil {
				t.Fatal(err)
			}
			start := clock.now()
			_, err := w.Next(context.Background())
			var de *DeviceError
			if !errors.Is(err, ErrDeviceGone) || !errors.As(err, &de) || de.Device != "/dev/video3" {
				t.Fatalf("err = %v, want a *DeviceError for /dev/video3 matching ErrDeviceGone", err)
			}
			if tc.cause != nil && !errors.Is(err, tc.cause) {
				t.Fatalf("err = %v, want it to wrap %v", err, tc.cause)
			}
			if tc.cause == nil && clock.now().Sub(start) != 5*time.Second {
				t.Fatalf("gave up after waiting %v, want the 5s frame timeout", clock.now().Sub(start))
			}
			if m := kiosk.OfficerMessage(err, kiosk.LangID); m != "kamera terputus" {
				t.Fatalf("officer message %+v", m)
			}
		})
	}
}

func TestWebcamNextHonoursContext(t *testing.T) {
	// A camera that sends nothing; the context is cancelled during the third wait, as a
	// closing window would from another goroutine.
	w := openFake(t, yuyvCamera(newFakeClock()), WebcamConfig{FrameTimeout: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	waits := 0
	w.dev = &countingWaits{device: w.dev, n: &waits, after: 3, cancel: cancel}
	if _, err := w.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if waits != 3 {
		t.Fatalf("waited %d times, want to stop right after the cancel during wait 3", waits)
	}
}

// countingWaits cancels a context after n waits.
type countingWaits struct {
	device
	n      *int
	after  int
	cancel context.CancelFunc
}

func (c *countingWaits) Wait(d time.Duration) error {
	*c.n++
	if *c.n == c.after {
		c.cancel()
	}
	return c.device.Wait(d)
}

func TestListDevices(t *testing.T) {
	clock := newFakeClock()
	cam := yuyvCamera(clock)
	dir := t.TempDir()
	for _, name := range []string{"video10", "video2", "video0"} {
		writeFile(t, dir+"/"+name, nil)
	}
	open := func(path string) (device, error) {
		switch {
		case strings.HasSuffix(path, "video2"):
			return cam, nil
		case strings.HasSuffix(path, "video10"):
			return nil, errors.New("Not a video capture device")
		}
		return nil, unix.EACCES
	}
	infos, err := listDevices(dir+"/video*", open)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, in := range infos {
		paths = append(paths, in.Path[len(dir)+1:])
	}
	if strings.Join(paths, " ") != "video0 video2 video10" {
		t.Fatalf("order %v, want natural order", paths)
	}
	if infos[0].Err == nil || infos[2].Err == nil || infos[1].Err != nil {
		t.Fatalf("errors %v %v %v", infos[0].Err, infos[1].Err, infos[2].Err)
	}
	got := infos[1]
	if got.Name != "YUYV cam" || len(got.Formats) != 1 || got.Formats[0].Format != FormatYUYV ||
		len(got.Formats[0].Sizes) != 1 || got.Formats[0].Sizes[0] != fixed(8, 4) {
		t.Fatalf("camera info %+v", got)
	}
	if cam.closed != 1 {
		t.Fatalf("listed camera closed %d times, want 1", cam.closed)
	}

	t.Run("NoUsableCamera", func(t *testing.T) {
		infos, err := listDevices(dir+"/video*", failOpen(unix.EACCES))
		if !errors.Is(err, ErrNoCamera) || len(infos) != 3 {
			t.Fatalf("got %d infos, %v; want 3 and ErrNoCamera", len(infos), err)
		}
	})
	t.Run("NoNodes", func(t *testing.T) {
		infos, err := listDevices(dir+"/nothing*", open)
		if !errors.Is(err, ErrNoCamera) || len(infos) != 0 {
			t.Fatalf("got %d infos, %v; want ErrNoCamera", len(infos), err)
		}
	})
}

func TestOpenWebcamRealAdapter(t *testing.T) {
	// Exercises blackjack/webcam on nodes every Linux machine has, no camera needed.
	t.Run("MissingNode", func(t *testing.T) {
		_, err := OpenWebcam(WebcamConfig{Device: filepath.Join(t.TempDir(), "video0")})
		if !errors.Is(err, ErrNoCamera) || !errors.Is(err, unix.ENOENT) {
			t.Fatalf("err = %v, want ErrNoCamera wrapping ENOENT", err)
		}
	})
	t.Run("NotAVideoDevice", func(t *testing.T) {
		_, err := OpenWebcam(WebcamConfig{Device: "/dev/null"})
		var de *DeviceError
		if !errors.As(err, &de) || de.Device != "/dev/null" || de.Op != "open" || !errors.Is(err, unix.ENOTTY) {
			t.Fatalf("err = %v, want an open *DeviceError for /dev/null wrapping ENOTTY", err)
		}
	})
}
