package appbench

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"time"

	xdraw "golang.org/x/image/draw"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/internal/imagefile"
)

// DebianFace is a frontal photo of the demo's citizen from Debian's dlib examples
// (libdlib-dev), the face the preview benchmark puts beside the phone.
const DebianFace = "/usr/share/doc/libdlib19.1/examples/johns/John_Schneider/000325_00925954.jpg"

// sceneSource is a webcam at the counter while a visit runs: the demo's phone showing a QR
// on the left and, when a face photo is given, a citizen's face on the right, so the QR
// scanner and the face analyser both do their full work on every frame. Frames are 4:2:0
// YCbCr, as a webcam's decoded MJPEG or YUYV is, each a fresh copy (a camera fills a new
// buffer), paced at fps.
type sceneSource struct {
	y, cb, cr []byte
	w, h      int
	interval  time.Duration
	last      time.Time
	seq       uint64
}

// newSceneSource renders the scene once; facePhoto "" leaves the face out.
func newSceneSource(w, h int, fps float64, facePhoto string) (*sceneSource, error) {
	phone, err := camera.Render(previewScene(w, h))
	if err != nil {
		return nil, fmt.Errorf("preview scene: %w", err)
	}
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(rgba, rgba.Bounds(), phone, image.Point{}, draw.Src)
	if facePhoto != "" {
		chip, err := imagefile.Read(facePhoto)
		if err != nil {
			return nil, fmt.Errorf("preview face: %w", err)
		}
		// Three times the 150 px chip: about 75 px between the eyes, a citizen seated at the
		// counter, on the right where the phone is not.
		side := min(3*chip.Bounds().Dx(), h*2/3)
		dst := image.Rect(w-side-w/20, (h-side)/2, w-w/20, (h+side)/2)
		draw.Draw(rgba, dst.Inset(-side/4), &image.Uniform{color.Gray{Y: 120}}, image.Point{}, draw.Src)
		xdraw.CatmullRom.Scale(rgba, dst, chip, chip.Bounds(), draw.Src, nil)
	}
	s := &sceneSource{w: w, h: h, interval: time.Duration(float64(time.Second) / fps)}
	cw, ch := (w+1)/2, (h+1)/2
	s.y, s.cb, s.cr = make([]byte, w*h), make([]byte, cw*ch), make([]byte, cw*ch)
	for py := 0; py < h; py++ {
		for px := 0; px < w; px++ {
			c := rgba.RGBAAt(px, py)
			yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
			s.y[py*w+px] = yy
			if px%2 == 0 && py%2 == 0 {
				s.cb[(py/2)*cw+px/2], s.cr[(py/2)*cw+px/2] = cb, cr
			}
		}
	}
	return s, nil
}

func (s *sceneSource) Next(ctx context.Context) (camera.Frame, error) {
	if !s.last.IsZero() {
		if err := sleep(ctx, time.Until(s.last.Add(s.interval))); err != nil {
			return camera.Frame{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return camera.Frame{}, err
	}
	s.seq++
	s.last = time.Now()
	img := &image.YCbCr{Y: clone(s.y), Cb: clone(s.cb), Cr: clone(s.cr), YStride: s.w, CStride: (s.w + 1) / 2,
		SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: image.Rect(0, 0, s.w, s.h)}
	return camera.Frame{Image: img, Seq: s.seq, Captured: s.last}, nil
}

func (s *sceneSource) Close() error { return nil }

func clone(b []byte) []byte { return append([]byte(nil), b...) }
