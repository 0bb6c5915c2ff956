package qrbench

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/ikd-field/ikd/internal/imagefile"
)

// Photo is a real camera photo of a QR code with the text it holds. The pictures are zxing's
// blackbox test images as shipped in the gozxing module (a dependency, so already in the
// module cache); only their names and texts are kept here.
type Photo struct {
	Set  string // zxing's name for the set
	File string // relative to the gozxing module directory
	Want string
}

const gozxingModule = "github.com/makiuchi-d/gozxing"

// Photos lists the photos with a known text. Texts come from gozxing's
// qrcode/qrcode_reader_test.go, which takes them from zxing's blackbox .txt files;
// qrcode-1/14.png is commented out there (gozxing cannot read it), its text is zxing's
// core/src/test/resources/blackbox/qrcode-1/14.txt. qrcode-1 and android-1 are phone and
// webcam photos; qrcode-6 are rendered codes rotated and cropped, kept for rotation.
func Photos() []Photo {
	const (
		wiki     = `MEBKM:URL:http\://en.wikipedia.org/wiki/Main_Page;;`
		bluenile = "http://google.com/gwt/n?u=bluenile.com"
		sean     = "Sean Owen\r\nsrowen@google.com\r\n917-364-2918\r\nhttp://awesome-thoughts.com"
		seanCard = "MECARD:N:Sean Owen;TEL:+12125658770;EMAIL:srowen@google.com;;"
	)
	var ps []Photo
	for i := 1; i <= 20; i++ {
		want := wiki
		switch {
		case i >= 16:
			want = sean
		case i >= 13:
			want = bluenile
		}
		ps = append(ps, Photo{"qrcode-1", fmt.Sprintf("qrcode/testdata/qrcode-1/%d.png", i), want})
	}
	for i := 1; i <= 15; i++ {
		want := "1234567890"
		if i == 15 {
			want = "TEST"
		}
		ps = append(ps, Photo{"qrcode-6", fmt.Sprintf("qrcode/testdata/qrcode-6/%d.png", i), want})
	}
	for i, want := range []string{
		"MECARD:N:Google 411,;TEL:18665881077;;",
		"UI office hours signup\r\nhttp://www.corp.google.com/sparrow/ui_office_hours/ \r\n",
		seanCard,
		seanCard,
	} {
		ps = append(ps, Photo{"android-1", fmt.Sprintf("qrcode/testdata/qrcode-%d.jpg", i+1), want})
	}
	return ps
}

// PhotoSets returns the set names in table order.
func PhotoSets() []string { return []string{"qrcode-1", "qrcode-6", "android-1"} }

// PhotoScales are the sizes the photos are read at: as taken, then shrunk (area average)
// as if the code were two and three times as far from the camera. Only scale 1 is a
// photo as taken; the others are derived from it.
var PhotoScales = []float64{1, 0.5, 0.35}

// PhotoSetName names a set read at scale: "qrcode-1", "qrcode-1 x0.50".
func PhotoSetName(set string, scale float64) string {
	if scale == 1 {
		return set
	}
	return fmt.Sprintf("%s x%.2f", set, scale)
}

// Scaled returns img's luminance shrunk by scale (0 < scale ≤ 1), each pixel the mean of
// the source pixels under it, as a camera sensor further away would integrate them.
func Scaled(img image.Image, scale float64) *image.Gray {
	b := img.Bounds()
	src := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			src.Pix[y*src.Stride+x] = color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y
		}
	}
	w, h := max(int(float64(b.Dx())*scale), 1), max(int(float64(b.Dy())*scale), 1)
	dst := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		y0, y1 := int(float64(y)/scale), min(max(int(float64(y+1)/scale), int(float64(y)/scale)+1), b.Dy())
		for x := range w {
			x0, x1 := int(float64(x)/scale), min(max(int(float64(x+1)/scale), int(float64(x)/scale)+1), b.Dx())
			sum, n := 0, 0
			for yy := y0; yy < y1; yy++ {
				for xx := x0; xx < x1; xx++ {
					sum += int(src.Pix[yy*src.Stride+xx])
					n++
				}
			}
			dst.Pix[y*dst.Stride+x] = byte((sum + n/2) / n)
		}
	}
	return dst
}

// ErrNoPhotos means the gozxing module directory (where the photos are) was not found.
var ErrNoPhotos = errors.New("real QR photos not found (gozxing module directory)")

// PhotoDir finds the gozxing module directory: $IKD_GOZXING_DIR if set, else what
// `go list -m` says from the working directory, else the module cache path for the version
// this program was built with.
func PhotoDir() (string, error) {
	if d := os.Getenv("IKD_GOZXING_DIR"); d != "" {
		return checkPhotoDir(d)
	}
	var out bytes.Buffer
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", gozxingModule)
	cmd.Stdout = &out
	if cmd.Run() == nil {
		if d, err := checkPhotoDir(strings.TrimSpace(out.String())); err == nil {
			return d, nil
		}
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", ErrNoPhotos
	}
	for _, dep := range info.Deps {
		if dep.Path != gozxingModule {
			continue
		}
		cache := os.Getenv("GOMODCACHE")
		if cache == "" {
			out.Reset()
			cmd := exec.Command("go", "env", "GOMODCACHE")
			cmd.Stdout = &out
			if cmd.Run() == nil {
				cache = strings.TrimSpace(out.String())
			}
		}
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", ErrNoPhotos
			}
			cache = filepath.Join(home, "go", "pkg", "mod")
		}
		return checkPhotoDir(filepath.Join(cache, "github.com", "makiuchi-d", "gozxing@"+dep.Version))
	}
	return "", ErrNoPhotos
}

func checkPhotoDir(dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, Photos()[0].File)); err != nil {
		return "", fmt.Errorf("%w: %s", ErrNoPhotos, dir)
	}
	return dir, nil
}

// LoadPhoto decodes one photo from dir.
func LoadPhoto(dir string, p Photo) (image.Image, error) {
	img, err := imagefile.Read(filepath.Join(dir, p.File))
	if err != nil {
		return nil, fmt.Errorf("load photo %s: %w", p.File, err)
	}
	return img, nil
}
