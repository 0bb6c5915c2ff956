//go:build models

package modelcheck

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	face "github.com/Kagami/go-face"

	"github.com/ikd-field/ikd/internal/shareddata"
)

// debianExamples is where Debian's libdlib19.1 puts dlib's example photos.
const debianExamples = "/usr/share/doc/libdlib19.1/examples"

// Real dlib descriptors have norms of about 1.23–1.54 (idols.json); the random-weight stand-in
// gives 75–160. The bounds leave a little room for the 8-bit port.
const minNorm, maxNorm = 1.2, 1.55

// mustRecognizer loads $IKD_MODELS, skipping when its recognition model is absent.
func mustRecognizer(t *testing.T) *face.Recognizer {
	t.Helper()
	dir := os.Getenv("IKD_MODELS")
	if dir == "" {
		t.Skip("IKD_MODELS is not set; run build/models.sh and point IKD_MODELS at its directory")
	}
	if _, err := os.Stat(filepath.Join(dir, "dlib_face_recognition_resnet_model_v1.dat")); err != nil {
		t.Skipf("no recognition model in IKD_MODELS=%s: %v", dir, err)
	}
	rec, err := face.NewRecognizer(dir)
	if err != nil {
		t.Fatalf("load models from %s: %v", dir, err)
	}
	t.Cleanup(rec.Close)
	return rec
}

type sample struct {
	person, file string
	d            face.Descriptor
}

func norm(d face.Descriptor) float64 {
	var s float64
	for _, v := range d {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}

func dist(a, b face.Descriptor) float64 {
	var s float64
	for i := range a {
		x := float64(a[i]) - float64(b[i])
		s += x * x
	}
	return math.Sqrt(s)
}

// padded puts an aligned 150×150 chip in the middle of a grey 300×300 frame: HOG, which go-face
// runs first, misses faces that fill the whole image.
func padded(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chip, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	b := chip.Bounds()
	canvas := image.NewRGBA(image.Rect(0, 0, 2*b.Dx(), 2*b.Dy()))
	draw.Draw(canvas, canvas.Bounds(), &image.Uniform{color.Gray{128}}, image.Point{}, draw.Src)
	draw.Draw(canvas, b.Add(image.Pt(b.Dx()/2, b.Dy()/2)).Sub(b.Min), chip, b.Min, draw.Src)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, canvas, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// people reads <root>/<person>/*.jpg (skipping folders starting with "_") and keeps the largest
// face of each photo in which go-face finds one.
func people(t *testing.T, rec *face.Recognizer, root string, pad bool) []sample {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "*", "*.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var out []sample
	for _, f := range files {
		person := filepath.Base(filepath.Dir(f))
		if strings.HasPrefix(person, "_") {
			continue
		}
		var faces []face.Face
		if pad {
			faces, err = rec.Recognize(padded(t, f))
		} else {
			faces, err = rec.RecognizeFile(f)
		}
		if err != nil {
			t.Fatalf("recognize %s: %v", f, err)
		}
		if best, ok := largest(faces); ok {
			out = append(out, sample{person, f, best.Descriptor})
		}
	}
	return out
}

func largest(faces []face.Face) (face.Face, bool) {
	if len(faces) == 0 {
		return face.Face{}, false
	}
	best := faces[0]
	for _, f := range faces[1:] {
		if f.Rectangle.Dx()*f.Rectangle.Dy() > best.Rectangle.Dx()*best.Rectangle.Dy() {
			best = f
		}
	}
	return best, true
}

func checkNorms(t *testing.T, ss []sample) {
	t.Helper()
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		n := norm(s.d)
		lo, hi = math.Min(lo, n), math.Max(hi, n)
		if n < minNorm || n > maxNorm {
			t.Errorf("%s: descriptor norm %.3f outside [%.2f, %.2f]: not dlib's recognition model", s.file, n, minNorm, maxNorm)
		}
	}
	t.Logf("%d descriptors, norms %.3f–%.3f", len(ss), lo, hi)
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	return xs[len(xs)/2]
}

// checkSeparation requires genuine pairs (same person, two photos) to score below impostor
// pairs: the genuine median below the impostor median, and P(genuine < impostor) ≥ minAUC.
// The stand-in scores an AUC of 0.47 on the shared photos (shared/models/README.md).
func checkSeparation(t *testing.T, ss []sample, minAUC float64) {
	t.Helper()
	var genuine, impostor []float64
	for i := range ss {
		for j := i + 1; j < len(ss); j++ {
			d := dist(ss[i].d, ss[j].d)
			if ss[i].person == ss[j].person {
				genuine = append(genuine, d)
			} else {
				impostor = append(impostor, d)
			}
		}
	}
	if len(genuine) == 0 || len(impostor) == 0 {
		t.Fatalf("need genuine and impostor pairs, have %d and %d", len(genuine), len(impostor))
	}
	gMed, iMed := median(genuine), median(impostor)
	var below float64
	for _, g := range genuine {
		below += float64(len(impostor) - sort.SearchFloat64s(impostor, g))
	}
	auc := below / float64(len(genuine)*len(impostor))
	t.Logf("genuine pairs %d: median %.3f max %.3f; impostor pairs %d: min %.3f median %.3f; AUC %.3f",
		len(genuine), gMed, genuine[len(genuine)-1], len(impostor), impostor[0], iMed, auc)
	if gMed >= iMed {
		t.Errorf("genuine median %.3f is not below the impostor median %.3f", gMed, iMed)
	}
	if auc < minAUC {
		t.Errorf("P(genuine < impostor) = %.3f, want at least %.2f", auc, minAUC)
	}
}

func TestConvertedDescriptors(t *testing.T) {
	rec := mustRecognizer(t)
	// Each photo set may be absent (Debian images without /usr/share/doc, no shared folder),
	// but a check that looked at no photo at all must not pass.
	checked := 0
	defer func() {
		if checked == 0 {
			t.Errorf("no photo set found: install libdlib19.1's examples or set IKD_SHARED")
		}
	}()

	t.Run("DebianExampleFaces", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(debianExamples, "faces", "*.jpg"))
		if len(files) == 0 {
			t.Skipf("no photos in %s/faces (Debian package libdlib19.1)", debianExamples)
		}
		var ss []sample
		for _, f := range files {
			faces, err := rec.RecognizeFile(f)
			if err != nil {
				t.Fatalf("recognize %s: %v", f, err)
			}
			for _, fc := range faces {
				ss = append(ss, sample{file: f, d: fc.Descriptor})
			}
		}
		if len(ss) < 10 {
			t.Fatalf("only %d faces found in %d photos", len(ss), len(files))
		}
		checkNorms(t, ss)
		checked++
	})

	t.Run("DebianJohns", func(t *testing.T) {
		root := filepath.Join(debianExamples, "johns")
		if _, err := os.Stat(root); err != nil {
			t.Skipf("no %s (Debian package libdlib19.1)", root)
		}
		ss := people(t, rec, root, true)
		if len(ss) < 20 {
			t.Fatalf("faces found in only %d chips", len(ss))
		}
		checkNorms(t, ss)
		checkSeparation(t, ss, 0.99)
		checked++
	})

	t.Run("SharedFaces", func(t *testing.T) {
		// Full-size publicity photos of one population, where dlib's model separates less
		// well than on the johns chips (AUC 0.72 measured; real dlib descriptors of this population
		// in idols-dev.json: 0.86): require a majority well above chance, not a gap.
		ss := people(t, rec, shareddata.Require(t, "testdata", "faces"), false)
		checkNorms(t, ss)
		checkSeparation(t, ss, 0.65)
		checked++
	})
}
