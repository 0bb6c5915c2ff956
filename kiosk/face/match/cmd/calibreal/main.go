// Command calibreal runs labelled photos through the real pipeline (go-face's HOG detector,
// the landmark model and the recognition model in -models) and prints the shipped
// calibration's genuine/impostor scores and error rates at its thresholds. Run from the
// module root:
//
//	go run ./kiosk/face/match/cmd/calibreal -models /work/models-real
//
// Photo sets (each skipped with a message when absent): the shared photos
// ($IKD_SHARED/testdata/faces, one person per folder), Debian's johns (150×150 chips, one
// person per folder) and Debian's example faces (impostor pairs only: two faces of one photo
// are two people; the collage bald_guys.jpg is left out). With -compare DIR,... it instead prints, per photo set, how far each other
// model's descriptors lie from -models' on the same faces (the port-error estimate; see
// assets/calibration/README.md).
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	face "github.com/Kagami/go-face"

	"github.com/ikd-field/ikd/internal/shareddata"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face/match"
	"github.com/ikd-field/ikd/kiosk/face/match/fit"
)

// debianExamples is where Debian's libdlib19.1 puts dlib's example photos.
const debianExamples = "/usr/share/doc/libdlib19.1/examples"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "calibreal:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("calibreal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	models := fs.String("models", os.Getenv("IKD_MODELS"), "model folder for go-face (default $IKD_MODELS)")
	compare := fs.String("compare", "", "comma-separated model folders whose descriptors are compared with -models'")
	debian := fs.String("debian", debianExamples, "Debian's dlib example photos (faces/, johns/)")
	dump := fs.String("dump", "", "also write the labelled sets' descriptors here (idols.json format, person = folder)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *models == "" {
		return errors.New("need -models (or $IKD_MODELS)")
	}
	shared, err := shareddata.Dir()
	if err != nil {
		return err
	}
	sets := []photoSet{
		{name: "shared photos", root: filepath.Join(shared, "testdata", "faces"), labelled: true},
		{name: "Debian johns", root: filepath.Join(*debian, "johns"), labelled: true, pad: true},
		// bald_guys.jpg is dlib's clustering example: a collage of four men, several photos
		// each, so two of its faces may be one person.
		{name: "Debian faces", root: filepath.Join(*debian, "faces"), skip: []string{"bald_guys.jpg"}},
	}
	base, err := describe(*models, sets, stdout)
	if err != nil {
		return err
	}
	if *dump != "" {
		if err := writeDataset(*dump, sets, base); err != nil {
			return err
		}
	}
	if *compare != "" {
		return printPortError(stdout, base, strings.Split(*compare, ","), sets)
	}
	c, err := match.Default()
	if err != nil {
		return err
	}
	return printTable(stdout, c, sets, base)
}

// photoSet is one folder of photos. Labelled sets hold <person>/*.jpg (folders starting with
// "_" skipped) and contribute the largest face of each photo; unlabelled sets hold *.jpg and
// contribute every face, impostor pairs being the faces of one photo.
type photoSet struct {
	name, root    string
	labelled, pad bool
	skip          []string // file names left out
}

// sample is one face: its label (person, or photo for unlabelled sets) and descriptor.
type sample struct {
	label, file string
	d           match.Descriptor
}

// describe recognises every set with the models in dir; absent sets give nil.
func describe(dir string, sets []photoSet, log io.Writer) ([][]sample, error) {
	if _, err := os.Stat(filepath.Join(dir, "dlib_face_recognition_resnet_model_v1.dat")); err != nil {
		return nil, fmt.Errorf("no recognition model in %s: %w", dir, err)
	}
	rec, err := face.NewRecognizer(dir)
	if err != nil {
		return nil, fmt.Errorf("load models from %s: %w", dir, err)
	}
	defer rec.Close()
	out := make([][]sample, len(sets))
	for i, s := range sets {
		pattern := filepath.Join(s.root, "*.jpg")
		if s.labelled {
			pattern = filepath.Join(s.root, "*", "*.jpg")
		}
		files, err := filepath.Glob(pattern)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			fmt.Fprintf(log, "skipped %s: no photos in %s\n", s.name, s.root)
			continue
		}
		sort.Strings(files)
		for _, f := range files {
			if slices.Contains(s.skip, filepath.Base(f)) {
				continue
			}
			ss, err := recognise(rec, s, f)
			if err != nil {
				return nil, err
			}
			out[i] = append(out[i], ss...)
		}
	}
	return out, nil
}

func recognise(rec *face.Recognizer, s photoSet, file string) ([]sample, error) {
	label := filepath.Base(file)
	if s.labelled {
		label = filepath.Base(filepath.Dir(file))
		if strings.HasPrefix(label, "_") {
			return nil, nil
		}
	}
	img, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if s.pad {
		if img, err = padded(img); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	faces, err := rec.Recognize(img)
	if err != nil {
		return nil, fmt.Errorf("recognise %s: %w", file, err)
	}
	if s.labelled && len(faces) > 1 {
		// The photo's subject: the largest face.
		slices.SortStableFunc(faces, func(a, b face.Face) int {
			return b.Rectangle.Dx()*b.Rectangle.Dy() - a.Rectangle.Dx()*a.Rectangle.Dy()
		})
		faces = faces[:1]
	}
	out := make([]sample, len(faces))
	for i, f := range faces {
		out[i] = sample{label: label, file: file, d: match.Descriptor(f.Descriptor)}
	}
	return out, nil
}

// padded puts a face chip in the middle of a grey frame twice its size: HOG misses faces
// that fill the whole image.
func padded(jpg []byte) ([]byte, error) {
	chip, _, err := image.Decode(bytes.NewReader(jpg))
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	b := chip.Bounds()
	canvas := image.NewRGBA(image.Rect(0, 0, 2*b.Dx(), 2*b.Dy()))
	draw.Draw(canvas, canvas.Bounds(), &image.Uniform{color.Gray{128}}, image.Point{}, draw.Src)
	draw.Draw(canvas, b.Add(image.Pt(b.Dx()/2, b.Dy()/2)).Sub(b.Min), chip, b.Min, draw.Src)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, canvas, &jpeg.Options{Quality: 95}); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return buf.Bytes(), nil
}

// pair is one comparison of two faces, one descriptor per side.
type pair struct {
	genuine bool
	raw     float64 // Euclidean distance
	score   match.Score
}

// pairs scores every pair. Labelled sets give genuine and impostor pairs, unlabelled sets
// impostor pairs within one photo only.
func pairs(c *match.Calibration, ss []sample, labelled bool) ([]pair, error) {
	var out []pair
	for i := range ss {
		for j := i + 1; j < len(ss); j++ {
			same := ss[i].label == ss[j].label
			if !labelled && !same {
				continue
			}
			a, b := []match.Descriptor{ss[i].d}, []match.Descriptor{ss[j].d}
			s, err := c.Score(a, b)
			if err != nil {
				return nil, fmt.Errorf("%s and %s: %w", ss[i].file, ss[j].file, err)
			}
			out = append(out, pair{genuine: labelled && same, raw: match.Distance(a[0], b[0]), score: s})
		}
	}
	return out, nil
}

// rule is one way of deciding: thresholds, with or without the raw-distance guard.
type rule struct {
	name string
	th   kiosk.FaceThresholds
}

// decide is kiosk.DecideFace for a converted model.
func (r rule) decide(p pair) kiosk.Band {
	return kiosk.DecideFace(r.th, "", kiosk.FaceEvidence{Score: float64(p.score), Distance: p.raw, Model: kiosk.ModelConverted}).Band
}

// tally counts the rule's bands: [impostor, genuine][match, uncertain, no match].
func (r rule) tally(ps []pair) [2][3]int {
	var n [2][3]int
	for _, p := range ps {
		g := 0
		if p.genuine {
			g = 1
		}
		switch r.decide(p) {
		case kiosk.BandMatch:
			n[g][0]++
		case kiosk.BandUncertain:
			n[g][1]++
		default:
			n[g][2]++
		}
	}
	return n
}

// printTable prints, per photo set, the pairs' medians and, per rule, the bands of genuine
// and impostor pairs.
func printTable(w io.Writer, c *match.Calibration, sets []photoSet, samples [][]sample) error {
	rules := []rule{{"shipped default", c.Thresholds}}
	for _, class := range []kiosk.ModelClass{kiosk.ModelPublished, kiosk.ModelConverted} {
		if m, ok := c.ThresholdsByModel[class]; ok {
			rules = append(rules, rule{string(class), m})
		}
	}
	for _, r := range rules {
		fmt.Fprintf(w, "rule %-16s match < %.3f, no match > %.3f, match only at raw distance < %.2f (0: no guard)\n", r.name, r.th.Match, r.th.NoMatch, r.th.MatchMaxDistance)
	}
	fmt.Fprintf(w, "%-14s %5s %5s %5s | %-11s | %-11s | %-16s | %-22s | %-20s | %-20s | %s\n", "set", "faces", "gen", "imp",
		"raw med g/i", "cal med g/i", "rule", "impostors matched", "genuine not matched", "genuine no match", "impostors not rejected")
	for i, s := range sets {
		if len(samples[i]) == 0 {
			continue
		}
		ps, err := pairs(c, samples[i], s.labelled)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		var rg, ri, cg, ci []float64
		for _, p := range ps {
			if p.genuine {
				rg, cg = append(rg, p.raw), append(cg, float64(p.score))
			} else {
				ri, ci = append(ri, p.raw), append(ci, float64(p.score))
			}
		}
		raw, cal := fit.NewPairScores(rg, ri), fit.NewPairScores(cg, ci)
		for k, r := range rules {
			n := r.tally(ps)
			head := fmt.Sprintf("%-14s %5d %5d %5d | %s/%s | %s/%s", s.name, len(samples[i]), len(cal.Genuine), len(cal.Impostor),
				med(raw.Genuine), med(raw.Impostor), med(cal.Genuine), med(cal.Impostor))
			if k > 0 {
				head = fmt.Sprintf("%-14s %5s %5s %5s | %-11s | %-11s", "", "", "", "", "", "")
			}
			fmt.Fprintf(w, "%s | %-16s | %-22s | %-20s | %-20s | %s\n", head, r.name,
				share(n[0][0], len(ci)), share(n[1][1]+n[1][2], len(cg)), share(n[1][2], len(cg)), share(n[0][0]+n[0][1], len(ci)))
		}
		if len(ci) > 0 {
			fmt.Fprintf(w, "%-14s lowest impostor score %.3f, smallest impostor raw distance %.3f\n", "", cal.Impostor[0], raw.Impostor[0])
		}
	}
	return nil
}

// med formats the median of sorted xs, "-" for none.
func med(xs []float64) string {
	if len(xs) == 0 {
		return "  -  "
	}
	return fmt.Sprintf("%.3f", xs[len(xs)/2])
}

func share(k, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%% (%d/%d)", 100*float64(k)/float64(n), k, n)
}

// printPortError compares, face by face, each other model's descriptors with base's: the
// Euclidean distance Δd, the norm of the mean displacement over a set (the part common to all
// faces, which cancels in a raw distance but not after the calibration's centring) and what
// is left of each face's displacement without it.
func printPortError(w io.Writer, base [][]sample, dirs []string, sets []photoSet) error {
	fmt.Fprintf(w, "%-40s %-14s %5s | %-27s | %s | %s\n", "model", "set", "faces", "|Δd|: median mean p90 max", "|mean Δd|", "|Δd − mean Δd|: median mean p90 max")
	var all, allOwn []float64
	for _, dir := range dirs {
		other, err := describe(dir, sets, io.Discard)
		if err != nil {
			return err
		}
		for i, s := range sets {
			if len(base[i]) == 0 {
				continue
			}
			if len(other[i]) != len(base[i]) {
				return fmt.Errorf("%s: %s finds %d faces, the base model %d (the detector and landmarks must be the same)", s.name, dir, len(other[i]), len(base[i]))
			}
			var dists []float64
			var mean [match.Dim]float64
			for k, b := range base[i] {
				o := other[i][k]
				if o.file != b.file {
					return fmt.Errorf("%s: face %d is from %s with %s, %s with the base model", s.name, k, o.file, dir, b.file)
				}
				dists = append(dists, match.Distance(b.d, o.d))
				for j := range mean {
					mean[j] += float64(o.d[j]-b.d[j]) / float64(len(base[i]))
				}
			}
			var own []float64 // what is left after the common part
			for k, b := range base[i] {
				var r [match.Dim]float64
				for j := range r {
					r[j] = float64(other[i][k].d[j]-b.d[j]) - mean[j]
				}
				own = append(own, math.Sqrt(dotSelf(r[:])))
			}
			all = append(all, dists...)
			allOwn = append(allOwn, own...)
			fmt.Fprintf(w, "%-40s %-14s %5d | %s | %.4f | %s\n", dir, s.name, len(dists), spread(dists), math.Sqrt(dotSelf(mean[:])), spread(own))
		}
	}
	fmt.Fprintf(w, "%-40s %-14s %5d | %s |        | %s\n", "all", "all", len(all), spread(all), spread(allOwn))
	return nil
}

func spread(xs []float64) string {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	var sum float64
	for _, x := range xs {
		sum += x
	}
	q := func(p float64) float64 { return xs[int(p*float64(len(xs)-1)+0.5)] }
	return fmt.Sprintf("%.4f %.4f %.4f %.4f", q(0.5), sum/float64(len(xs)), q(0.9), xs[len(xs)-1])
}

func dotSelf(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return s
}

// writeDataset writes the labelled sets' faces in the descriptor-file format match reads, one
// person per set and folder ("<set>/<folder>").
func writeDataset(path string, sets []photoSet, samples [][]sample) error {
	type idol struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	type entry struct {
		Descriptor string `json:"descriptor"`
		IdolID     string `json:"idol_id"`
	}
	var f struct {
		Idols []idol  `json:"idols"`
		Faces []entry `json:"faces"`
	}
	seen := map[string]bool{}
	for i, s := range sets {
		if !s.labelled {
			continue
		}
		for _, x := range samples[i] {
			id := s.name + "/" + x.label
			if !seen[id] {
				seen[id] = true
				f.Idols = append(f.Idols, idol{ID: id, Name: x.label})
			}
			b, err := x.d.AppendBinary(nil)
			if err != nil {
				return err
			}
			f.Faces = append(f.Faces, entry{Descriptor: base64.StdEncoding.EncodeToString(b), IdolID: id})
		}
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write descriptors: %w", err)
	}
	return nil
}
