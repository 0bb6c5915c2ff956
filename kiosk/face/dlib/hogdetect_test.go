package dlib

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"os"
	"slices"
	"testing"

	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/facetest"
)

// debianPhoto decodes one of the photos Debian's libdlib19.1 ships with dlib's examples
// (installed with libdlib-dev), or skips.
func debianPhoto(t *testing.T, rel string) image.Image {
	t.Helper()
	path := "/usr/share/doc/libdlib19.1/examples/" + rel
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("Debian's dlib example photos absent: %v", err)
	}
	defer f.Close()
	m, err := jpeg.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return m
}

func mustHOG(t *testing.T) *hogDetector {
	t.Helper()
	d, err := newHOGDetector()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.close)
	return d
}

// The detector reads colour from every chroma layout a frame or a photo comes in, and from a
// sub-image whose origin is odd (its chroma samples are shared with the pixel before): the
// boxes are those of the same pixels in 4:4:4. The photo has several faces, so a wrong colour
// shows as a box lost or moved.
func TestHOGDetectorReadsEveryChromaLayout(t *testing.T) {
	photo := debianPhoto(t, "faces/2008_002506.jpg")
	rgba := image.NewRGBA(photo.Bounds())
	draw.Draw(rgba, rgba.Bounds(), photo, photo.Bounds().Min, draw.Src)
	d := mustHOG(t)
	full := image.NewYCbCr(rgba.Bounds(), image.YCbCrSubsampleRatio444)
	for y := range rgba.Bounds().Dy() {
		for x := range rgba.Bounds().Dx() {
			c := rgba.RGBAAt(x, y)
			full.Y[full.YOffset(x, y)], full.Cb[full.COffset(x, y)], full.Cr[full.COffset(x, y)] = rgbToYCbCr(c.R, c.G, c.B)
		}
	}
	want, err := d.detect(full)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 3 {
		t.Fatalf("%d faces in a photo of several people", len(want))
	}
	for _, tc := range []struct {
		name string
		img  *image.YCbCr
		want []image.Rectangle
	}{
		{"444", full, want},
		{"420FromJPEG", photo.(*image.YCbCr), want},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.detect(tc.img)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) && !nearly(got, tc.want) {
				t.Fatalf("boxes %v, want %v", got, tc.want)
			}
		})
	}
}

// The detector's colour conversion is Go's, pixel for pixel, in every chroma layout and from
// a sub-image at an odd origin (whose chroma samples are shared with the pixel before).
func TestDetectorColourIsGos(t *testing.T) {
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio444} {
		m := image.NewYCbCr(image.Rect(0, 0, 37, 23), ratio)
		for i := range m.Y {
			m.Y[i] = uint8(i * 7)
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = uint8(i*13), uint8(255-i*5)
		}
		for _, r := range []image.Rectangle{m.Rect, image.Rect(3, 5, 30, 20), image.Rect(1, 1, 2, 2)} {
			sub := m.SubImage(r).(*image.YCbCr)
			got, err := packedRGB(sub)
			if err != nil {
				t.Fatal(err)
			}
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					c := sub.YCbCrAt(x, y)
					rr, gg, bb := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
					i := 3 * ((y-r.Min.Y)*r.Dx() + x - r.Min.X)
					if got[i] != rr || got[i+1] != gg || got[i+2] != bb {
						t.Fatalf("%v %v pixel (%d, %d): %v, want %v", ratio, r, x, y, got[i:i+3], []byte{rr, gg, bb})
					}
				}
			}
		}
	}
}

// nearly allows the one-pixel moves a JPEG's own chroma rounding gives.
func nearly(a, b []image.Rectangle) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		d := a[i].Min.Sub(b[i].Min)
		e := a[i].Max.Sub(b[i].Max)
		if max(d.X, -d.X, d.Y, -d.Y, e.X, -e.X, e.Y, -e.Y) > 8 {
			return false
		}
	}
	return true
}

func rgbToYCbCr(r, g, b uint8) (uint8, uint8, uint8) {
	yy := (19595*int32(r) + 38470*int32(g) + 7471*int32(b) + 1<<15) >> 16
	cb := ((-11056*int32(r) - 21712*int32(g) + 32768*int32(b) + 257<<15) >> 16)
	cr := ((32768*int32(r) - 27440*int32(g) - 5328*int32(b) + 257<<15) >> 16)
	return uint8(yy), uint8(min(255, max(0, cb))), uint8(min(255, max(0, cr)))
}

func TestHOGDetectorRefusesBadImages(t *testing.T) {
	d := mustHOG(t)
	if _, err := d.detect(image.NewYCbCr(image.Rectangle{}, image.YCbCrSubsampleRatio420)); err == nil {
		t.Error("empty image accepted")
	}
	if _, err := d.detect(image.NewYCbCr(image.Rect(0, 0, 64, 64), image.YCbCrSubsampleRatio410)); err == nil {
		t.Error("4:1:0 image accepted")
	}
}

// Detect finds what go-face's whole pipeline finds, box for box (both run dlib's HOG on RGB).
func TestDetectAgreesWithGoFace(t *testing.T) {
	e := mustEngine(t)
	for _, rel := range []string{"eunseo/1.jpg", "tzuyu/1.jpg", "chaeyeon/2.jpg"} {
		t.Run(rel, func(t *testing.T) {
			img := face.ToYCbCr(facetest.SharedPhoto(t, rel))
			boxes, err := e.Detect(context.Background(), img, face.HOG)
			if err != nil {
				t.Fatal(err)
			}
			faces, err := e.Recognize(context.Background(), img, face.HOG)
			if err != nil {
				t.Fatal(err)
			}
			var want []image.Rectangle
			for _, f := range faces {
				want = append(want, f.Rect)
			}
			if len(boxes) != 1 || !nearly(boxes, want) {
				t.Fatalf("Detect %v, go-face %v", boxes, want)
			}
		})
	}
}
