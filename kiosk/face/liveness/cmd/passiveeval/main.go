// Command passiveeval measures a passive anti-spoofing model, fr_liveness.onnx from npm
// faceplugin-face-recognition-js@0.0.1, on camera-like frames: bona fide frames made from real
// photos (resized, blurred, noisy, JPEG, as a webcam delivers them) and attack presentations
// made from the same photos (the photo on a phone screen in a webcam frame; the photo as a
// print). It prints APCER per attack type and BPCER (ISO/IEC 30107-3) at the model's default
// threshold and at the threshold that keeps BPCER at most -max-bpcer, with Wilson 95%
// intervals. Faces are found with dlib's HOG detector (go-face, models in -models). Run from
// the module root:
//
//	go run ./kiosk/face/liveness/cmd/passiveeval -model /tmp/fr_liveness.onnx
//
// The model is not part of the product (see BENCHMARKS.md); get it with
//
//	npm pack faceplugin-face-recognition-js@0.0.1 && tar -xzf faceplugin-face-recognition-js-0.0.1.tgz package/model/fr_liveness.onnx
//
// and check its SHA-256 against modelSHA256.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	goface "github.com/Kagami/go-face"

	"github.com/ikd-field/ikd/internal/shareddata"
	"github.com/ikd-field/ikd/kiosk/face/liveness/pad"
	"github.com/ikd-field/ikd/kiosk/face/opencvdnn"
)

// modelSHA256 is fr_liveness.onnx as faceplugin-face-recognition-js@0.0.1 ships it (npm
// integrity sha512-shriXjd4…pXWw==, the tarball build/models.sh pins for fr_feature.onnx).
const modelSHA256 = "afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d"

// defaultThreshold: the package reports softmax()[0] and leaves the cut to the caller; its
// users accept a face as live above 0.5.
const defaultThreshold = 0.5

const debianJohns = "/usr/share/doc/libdlib19.1/examples/johns"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "passiveeval:", err)
		os.Exit(1)
	}
}

// kinds of presentation, in report order.
var kinds = []string{"bona fide", "phone screen", "print"}

type result struct {
	kind, set, source string
	detected          bool
	probs             []float64
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("passiveeval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "", "path to fr_liveness.onnx (required)")
	models := fs.String("models", os.Getenv("IKD_MODELS"), "dlib model folder for go-face's detector (default $IKD_MODELS)")
	johns := fs.String("johns", debianJohns, "Debian's dlib johns chips (one folder per person); empty skips them")
	variants := fs.Int("variants", 2, "frames of each kind per photo (different seeds)")
	class := fs.Int("class", 0, "softmax index read as the bona fide score (the package reports index 0)")
	maxBPCER := fs.Float64("max-bpcer", 0.05, "BPCER bound for the second operating point")
	samples := fs.String("samples", "", "write the first frames of every tenth photo here as JPEG, for a look")
	scoresCSV := fs.String("scores", "", "also write every frame's softmax to this CSV file")
	boxScale := fs.Float64("box-scale", 1, "widen dlib's face box by this factor before the package's 2.7× crop (dlib's HOG box is tighter than the package's own detector's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *model == "" || *models == "" {
		return errors.New("need -model (fr_liveness.onnx) and -models (or $IKD_MODELS)")
	}
	if *boxScale < 0.5 || *boxScale > 2 {
		return fmt.Errorf("-box-scale %g outside 0.5..2", *boxScale)
	}
	if *variants < 1 {
		return fmt.Errorf("-variants %d: need at least 1", *variants)
	}
	sum, err := fileSHA256(*model)
	if err != nil {
		return err
	}
	if sum != modelSHA256 {
		fmt.Fprintf(stdout, "WARNING: %s has SHA-256 %s, not the pinned %s\n", *model, sum, modelSHA256)
	}
	net, err := opencvdnn.Load(*model, 3, pad.InputSize, pad.InputSize, 0)
	if err != nil {
		return err
	}
	defer net.Close()
	if *class < 0 || *class >= net.OutLen() {
		return fmt.Errorf("-class %d: the model gives %d values", *class, net.OutLen())
	}
	rec, err := goface.NewRecognizer(*models)
	if err != nil {
		return fmt.Errorf("go-face: %w", err)
	}
	defer rec.Close()

	photos, err := listPhotos(*johns)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "model %s (sha256 %s), %d outputs; %d photos, %d variants each\n",
		*model, sum[:12], net.OutLen(), len(photos), *variants)
	if *samples != "" {
		if err := os.MkdirAll(*samples, 0o755); err != nil {
			return err
		}
	}
	var results []result
	skipped := 0
	for pi, ph := range photos {
		src, box, err := loadPhoto(rec, ph.path)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v (skipped)\n", ph.path, err)
			skipped++
			continue
		}
		for v := range *variants {
			for ki, kind := range kinds {
				rng := rand.New(rand.NewPCG(uint64(pi), uint64(v*len(kinds)+ki)))
				var f *rgbf
				switch kind {
				case "bona fide":
					f = bonaFide(src, box)
				case "phone screen":
					f = phoneAttack(src, box, rng)
				case "print":
					f = printAttack(src, box, rng)
				}
				frame, err := webcam(f, rng)
				if err != nil {
					return err
				}
				if *samples != "" && pi%10 == 0 && v == 0 {
					name := fmt.Sprintf("%02d-%s.jpg", pi, strings.ReplaceAll(kind, " ", "-"))
					if err := os.WriteFile(filepath.Join(*samples, name), frame, 0o644); err != nil {
						return err
					}
				}
				r, err := score(rec, net, frame, *boxScale)
				if err != nil {
					return fmt.Errorf("%s: %w", ph.path, err)
				}
				r.kind, r.set, r.source = kind, ph.set, ph.path
				results = append(results, r)
			}
		}
	}
	if skipped > 0 {
		fmt.Fprintf(stdout, "%d photos skipped (no face found in the original)\n", skipped)
	}
	fmt.Fprintln(stdout, "\n== all photos")
	if err := report(stdout, results, *class, *maxBPCER); err != nil {
		return err
	}
	for _, set := range []string{setShared, setJohns} {
		var sub []result
		for _, r := range results {
			if r.set == set {
				sub = append(sub, r)
			}
		}
		if len(sub) == 0 {
			continue
		}
		fmt.Fprintf(stdout, "\n== %s only (threshold chosen on this set)\n", set)
		if err := report(stdout, sub, *class, *maxBPCER); err != nil {
			return err
		}
	}
	if *scoresCSV != "" {
		return writeScores(*scoresCSV, results)
	}
	return nil
}

// writeScores keeps every frame's softmax, so other thresholds can be read off without a rerun.
func writeScores(path string, results []result) error {
	var b strings.Builder
	b.WriteString("kind,set,source,face_found,p0,p1,p2\n")
	for _, r := range results {
		p := make([]string, 3)
		for i := range p {
			if i < len(r.probs) {
				p[i] = fmt.Sprintf("%.6g", r.probs[i])
			}
		}
		fmt.Fprintf(&b, "%s,%s,%s,%t,%s\n", r.kind, r.set, r.source, r.detected, strings.Join(p, ","))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

const (
	setShared = "shared photos"
	setJohns  = "Debian johns"
)

type photo struct{ path, set string }

// listPhotos: the shared photos (one person per folder; folders starting with _ hold groups
// and are left out) and Debian's johns chips.
func listPhotos(johns string) ([]photo, error) {
	shared, err := shareddata.Dir()
	if err != nil {
		return nil, err
	}
	pats := []photo{{filepath.Join(shared, "testdata", "faces", "*", "*.jpg"), setShared}}
	if johns != "" {
		pats = append(pats, photo{filepath.Join(johns, "*", "*.jpg"), setJohns})
	}
	var out []photo
	for _, pat := range pats {
		m, err := filepath.Glob(pat.path)
		if err != nil {
			return nil, err
		}
		for _, p := range m {
			if !strings.HasPrefix(filepath.Base(filepath.Dir(p)), "_") {
				out = append(out, photo{p, pat.set})
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no photos under %s/testdata/faces or %s (set IKD_SHARED)", shared, johns)
	}
	return out, nil
}

// loadPhoto decodes a photo and finds its subject (the largest face). A chip whose face fills
// it (Debian's johns) is first placed on a canvas of its own blurred edges, twice its size:
// HOG misses faces that fill the image, and the model looks at 2.7× the face box.
func loadPhoto(rec *goface.Recognizer, path string) (*rgbf, image.Rectangle, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, image.Rectangle{}, err
	}
	m, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, image.Rectangle{}, fmt.Errorf("decode: %w", err)
	}
	src := fromImage(m)
	if src.w <= 200 && src.h <= 200 {
		src = onOwnEdges(src)
		if data, err = encodeJPEG(src, 95); err != nil {
			return nil, image.Rectangle{}, err
		}
	}
	faces, err := rec.Recognize(data)
	if err != nil {
		return nil, image.Rectangle{}, fmt.Errorf("detect: %w", err)
	}
	if len(faces) == 0 {
		return nil, image.Rectangle{}, errors.New("no face")
	}
	return src, largest(faces), nil
}

func largest(faces []goface.Face) image.Rectangle {
	return slices.MaxFunc(faces, func(a, b goface.Face) int {
		return a.Rectangle.Dx()*a.Rectangle.Dy() - b.Rectangle.Dx()*b.Rectangle.Dy()
	}).Rectangle
}

// widen scales box b by s about its centre.
func widen(b image.Rectangle, s float64) image.Rectangle {
	cx, cy := float64(b.Min.X+b.Max.X)/2, float64(b.Min.Y+b.Max.Y)/2
	hw, hh := s*float64(b.Dx())/2, s*float64(b.Dy())/2
	return image.Rect(int(cx-hw+0.5), int(cy-hh+0.5), int(cx+hw+0.5), int(cy+hh+0.5))
}

// onOwnEdges puts a chip in the middle of a canvas three times its size whose pixels are the
// chip's nearest edge pixels, blurred: an out-of-focus surround rather than a flat grey.
func onOwnEdges(c *rgbf) *rgbf {
	f := newRGBF(3*c.w, 3*c.h)
	for y := range f.h {
		for x := range f.w {
			v := c.bilinear(float64(x-c.w)+0.5, float64(y-c.h)+0.5)
			copy(f.p[3*(y*f.w+x):], v[:])
		}
	}
	blur(f, 6)
	for y := range c.h {
		copy(f.p[3*((y+c.h)*f.w+c.w):3*((y+c.h)*f.w+2*c.w)], c.p[3*y*c.w:3*(y+1)*c.w])
	}
	return f
}

func encodeJPEG(f *rgbf, q int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, f.w, f.h))
	for i := 0; i < f.w*f.h; i++ {
		img.Set(i%f.w, i/f.w, color.RGBA{clamp(f.p[3*i]), clamp(f.p[3*i+1]), clamp(f.p[3*i+2]), 255})
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		return nil, fmt.Errorf("jpeg: %w", err)
	}
	return buf.Bytes(), nil
}

// score finds the largest face in the frame and runs the model on the package's crop of it.
// A frame with no face found is reported as such: it never reaches the PAD.
func score(rec *goface.Recognizer, net *opencvdnn.Net, frame []byte, boxScale float64) (result, error) {
	faces, err := rec.Recognize(frame)
	if err != nil {
		return result{}, fmt.Errorf("detect: %w", err)
	}
	if len(faces) == 0 {
		return result{}, nil
	}
	m, err := jpeg.Decode(bytes.NewReader(frame))
	if err != nil {
		return result{}, fmt.Errorf("decode frame: %w", err)
	}
	in := pad.Tensor(m, pad.CropRect(m.Bounds(), widen(largest(faces), boxScale)))
	out, err := net.Run(context.Background(), in)
	if err != nil {
		return result{}, err
	}
	return result{detected: true, probs: pad.Softmax(out)}, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
