package face

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"math"
	"math/cmplx"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face/quality"
)

// shape68 places dlib's 68 points so that the ArcFace points land on p (eye, eye, nose,
// mouth, mouth) after the similarity z ↦ a·z + b.
func shape68(a, b complex128) []quality.Point {
	pts := make([]quality.Point, 68)
	put := func(z complex128, idx ...int) {
		w := a*z + b
		for _, i := range idx {
			pts[i] = quality.Point{X: real(w), Y: imag(w)}
		}
	}
	c := func(i int) complex128 { return complex(arcFaceRef[i][0], arcFaceRef[i][1]) }
	put(c(0), 37, 38, 40, 41)
	put(c(1), 43, 44, 46, 47)
	put(c(2), 30)
	put(c(3), 48, 60)
	put(c(4), 54, 64)
	return pts
}

func TestSimilarityRecoversTheTransform(t *testing.T) {
	a, b := cmplx.Rect(2.5, 0.3), complex(140, 60)
	src, dst, err := arcFacePoints(shape68(a, b))
	if err != nil {
		t.Fatal(err)
	}
	ga, gb, err := similarity(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	// The crop's map is the inverse: dst = (z − b)/a.
	if cmplx.Abs(ga-1/a) > 1e-9 || cmplx.Abs(gb+b/a) > 1e-6 {
		t.Errorf("similarity a=%v b=%v, want %v %v", ga, gb, 1/a, -b/a)
	}
}

// A face drawn in reference position comes out of the aligner where ArcFace wants it: a
// bright square on each eye of a rotated, scaled frame lands on the reference eye.
func TestAlignArcFacePutsTheEyesInPlace(t *testing.T) {
	a, b := cmplx.Rect(3, -0.4), complex(200, 120)
	img := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio444)
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = 128, 128
	}
	for _, e := range arcFaceRef[:2] {
		w := a*complex(e[0], e[1]) + b
		for y := int(imag(w)) - 4; y <= int(imag(w))+4; y++ {
			for x := int(real(w)) - 4; x <= int(real(w))+4; x++ {
				img.Y[img.YOffset(x, y)] = 255
			}
		}
	}
	crop, err := AlignArcFace(img, shape68(a, b))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range arcFaceRef[:2] {
		if c := crop.RGBAAt(int(math.Round(e[0])), int(math.Round(e[1]))); c.R < 200 {
			t.Errorf("eye at %v is %v in the crop, want bright", e, c)
		}
	}
	if c := crop.RGBAAt(56, 100); c.R > 30 {
		t.Errorf("chin %v is bright", c)
	}
	// The tensor is RGB planes scaled (p−127)/128.
	tens := ArcFaceTensor(crop)
	x, y := int(math.Round(arcFaceRef[0][0])), int(math.Round(arcFaceRef[0][1]))
	want := (float32(crop.RGBAAt(x, y).G) - 127) / 128
	if got := tens[ArcFaceSize*ArcFaceSize+y*ArcFaceSize+x]; got != want {
		t.Errorf("tensor green at the eye %v, want %v", got, want)
	}
}

// A face several times the crop's size is averaged, not point-sampled: a one-pixel
// checkerboard (the finest detail a camera gives) comes out as its mean grey, where point
// samples would alias into a pattern of their own that moves with the face's distance.
func TestAlignArcFaceAveragesALargeFace(t *testing.T) {
	img := image.NewYCbCr(image.Rect(0, 0, 1200, 1200), image.YCbCrSubsampleRatio444)
	for y := range 1200 {
		for x := range 1200 {
			img.Y[img.YOffset(x, y)] = uint8(255 * ((x + y) % 2))
			img.Cb[img.COffset(x, y)], img.Cr[img.COffset(x, y)] = 128, 128
		}
	}
	crop, err := AlignArcFace(img, shape68(cmplx.Rect(7.3, 0.2), complex(150, 100)))
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := uint8(255), uint8(0)
	for y := 20; y < 92; y++ { // inside the image
		for x := 20; x < 92; x++ {
			v := crop.RGBAAt(x, y).R
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if lo < 112 || hi > 143 {
		t.Errorf("crop of a fine checkerboard spans %d to %d, want its mean grey (127.5 ± 15)", lo, hi)
	}
}

func TestAlignArcFaceRefusesBadLandmarks(t *testing.T) {
	img := image.NewYCbCr(image.Rect(0, 0, 64, 64), image.YCbCrSubsampleRatio420)
	for _, tc := range []struct {
		name string
		pts  []quality.Point
	}{
		{"None", nil},
		{"Seven", make([]quality.Point, 7)},
		{"FiveOnOnePoint", make([]quality.Point, 5)},
		{"NaN", []quality.Point{{X: math.NaN(), Y: 1}, {X: 2, Y: 2}, {X: 3, Y: 3}, {X: 4, Y: 4}, {X: 5, Y: 5}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := AlignArcFace(img, tc.pts); !errors.Is(err, ErrLandmarks) {
				t.Errorf("err %v, want ErrLandmarks", err)
			}
		})
	}
}

// fakeNet returns a fixed output.
type fakeNet struct {
	out []float32
	err error
}

func (f fakeNet) Run(ctx context.Context, in []float32) ([]float32, error) {
	if len(in) != 3*ArcFaceSize*ArcFaceSize {
		return nil, errors.New("bad input size")
	}
	return f.out, f.err
}

func TestModernEmbedNormalises(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 300, 300))
	for i := range img.Pix {
		img.Pix[i] = 90
	}
	shape := shape68(2, complex(40, 30))
	m := NewModern(fakeNet{out: []float32{3, 4}}, ModernModel{Engine: "arcface112:test"})
	e, err := m.Embed(context.Background(), img, shape)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(e[0])-0.6) > 1e-6 || math.Abs(float64(e[1])-0.8) > 1e-6 {
		t.Errorf("embedding %v, want [0.6 0.8]", e)
	}
	if c := Cosine(e, e); math.Abs(c-1) > 1e-6 {
		t.Errorf("self-similarity %v", c)
	}
	if c := Cosine(e, Embedding{1, 0, 0}); !math.IsNaN(c) {
		t.Errorf("templates of different lengths scored %v", c)
	}
	for _, out := range [][]float32{{0, 0}, {float32(math.Inf(1)), 0}} {
		if _, err := NewModern(fakeNet{out: out}, ModernModel{}).Embed(context.Background(), img, shape); err == nil {
			t.Errorf("output %v gave an embedding", out)
		}
	}
	netErr := errors.New("boom")
	if _, err := NewModern(fakeNet{err: netErr}, ModernModel{}).Embed(context.Background(), img, shape); !errors.Is(err, netErr) {
		t.Errorf("err %v, want the network's", err)
	}
}

const fakeSum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestReadModelsList(t *testing.T) {
	good := "# operator's models\n\n" + fakeSum + " Apache-2.0 sface.onnx match=0.36 no_match=0.1 OpenCV zoo SFace 2021dec\n" +
		strings.ToUpper(fakeSum) + " unverified other.onnx\n"
	got, err := ReadModelsList(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (ModelsListEntry{SHA256: fakeSum, Licence: "Apache-2.0", File: "sface.onnx",
		Thresholds: kiosk.ModernThresholds{Match: 0.36, NoMatch: 0.1}, Source: "OpenCV zoo SFace 2021dec"}) ||
		got[1].SHA256 != fakeSum || got[1].Licence != "unverified" {
		t.Errorf("parsed %+v", got)
	}
	for _, bad := range []string{
		fakeSum + " MIT\n",
		"abc MIT m.onnx\n",
		fakeSum + "00 MIT m.onnx\n",
		fakeSum + " MIT ../m.onnx\n",
		fakeSum + " MIT m.dat\n",
		fakeSum + " MIT m.onnx match=x\n",
		fakeSum + " MIT m.onnx match=0.5\n",
		fakeSum + " MIT m.onnx match=0.2 no_match=0.5\n",
		fakeSum + " MIT m.onnx match=NaN no_match=0.1\n",
	} {
		if _, err := ReadModelsList(strings.NewReader(bad)); !errors.Is(err, ErrModelsList) {
			t.Errorf("%q: err %v, want ErrModelsList", bad, err)
		}
	}
}

func FuzzReadModelsList(f *testing.F) {
	f.Add(fakeSum + " Apache-2.0 sface.onnx OpenCV zoo\n")
	f.Add("# x\n\nzz MIT a.onnx")
	f.Fuzz(func(t *testing.T, s string) {
		es, err := ReadModelsList(strings.NewReader(s))
		if err != nil && !errors.Is(err, ErrModelsList) {
			t.Fatalf("unexpected error kind %v", err)
		}
		for _, e := range es {
			if len(e.SHA256) != 64 || filepath.Base(e.File) != e.File {
				t.Fatalf("accepted %+v", e)
			}
		}
	})
}

func TestCheckModernModel(t *testing.T) {
	body := make([]byte, minModelBytes+1)
	write := func(dir, name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("Missing", func(t *testing.T) {
		_, err := CheckModernModel(t.TempDir())
		var me *ModelError
		if !errors.As(err, &me) || !errors.Is(err, ErrModelMissing) || me.File != ModernFile {
			t.Errorf("err %v, want a missing %s", err, ModernFile)
		}
	})
	t.Run("UnknownFile", func(t *testing.T) {
		dir := t.TempDir()
		write(dir, ModernFile, string(body))
		m, err := CheckModernModel(dir)
		if err != nil {
			t.Fatal(err)
		}
		if m.Class != kiosk.ModelUnknown || m.Licence != kiosk.LicenceUnverified || !strings.HasPrefix(m.Engine, EnginePrefix) {
			t.Errorf("%+v", m)
		}
	})
	t.Run("OperatorListed", func(t *testing.T) {
		dir := t.TempDir()
		write(dir, "sface.onnx", string(body))
		sum := sha256Hex(body)
		write(dir, ModelsListFile, sum+" Apache-2.0 sface.onnx match=0.36 no_match=0.1 OpenCV zoo SFace\n")
		m, err := CheckModernModel(dir)
		if err != nil {
			t.Fatal(err)
		}
		if m.File != "sface.onnx" || m.Class != kiosk.ModelOperator || m.Licence != kiosk.LicenceCleared || m.Source != "OpenCV zoo SFace" ||
			m.Engine != EnginePrefix+sum[:16] || m.Thresholds != (kiosk.ModernThresholds{Match: 0.36, NoMatch: 0.1}) {
			t.Errorf("%+v", m)
		}
	})
	t.Run("OperatorListedUnverified", func(t *testing.T) {
		dir := t.TempDir()
		write(dir, ModernFile, string(body))
		write(dir, ModelsListFile, sha256Hex(body)+" unverified "+ModernFile+"\n")
		m, err := CheckModernModel(dir)
		if err != nil {
			t.Fatal(err)
		}
		if m.Class != kiosk.ModelOperator || m.Licence != kiosk.LicenceUnverified {
			t.Errorf("%+v", m)
		}
	})
	t.Run("ListedHashDiffers", func(t *testing.T) {
		dir := t.TempDir()
		write(dir, "sface.onnx", string(body))
		write(dir, ModelsListFile, fakeSum+" Apache-2.0 sface.onnx\n")
		m, err := CheckModernModel(dir)
		if err != nil {
			t.Fatal(err)
		}
		if m.Class != kiosk.ModelUnknown {
			t.Errorf("a file whose hash the list does not hold is %s", m.Class)
		}
	})
	t.Run("BadList", func(t *testing.T) {
		dir := t.TempDir()
		write(dir, ModelsListFile, "nonsense\n")
		if _, err := CheckModernModel(dir); !errors.Is(err, ErrModelsList) {
			t.Errorf("err %v, want ErrModelsList", err)
		}
	})
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// BenchmarkAlignArcFace is the crop's cost for a face about seven times the crop's size (the
// most samples a pixel takes) and for one about its size.
func BenchmarkAlignArcFace(b *testing.B) {
	img := image.NewYCbCr(image.Rect(0, 0, 1280, 720), image.YCbCrSubsampleRatio420)
	for _, scale := range []float64{7.3, 1} {
		shape := shape68(cmplx.Rect(scale, 0.2), complex(300, 50))
		b.Run(fmt.Sprintf("face-%.0fx", scale), func(b *testing.B) {
			for b.Loop() {
				if _, err := AlignArcFace(img, shape); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
