// Package facebench measures the face pipeline stage by stage (ikdctl bench face): dlib's
// detector, landmark model and descriptor network each alone, the whole frame-to-verdict
// path, so that the pipeline's own overhead over the stages is visible, and 1:N search over
// snapshot-sized indexes of both engines with the memory they take beside the models.
package facebench

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/dlib"
	"github.com/ikd-field/ikd/kiosk/face/match"
	"github.com/ikd-field/ikd/kiosk/face/opencvdnn"
)

// Options choose what to measure.
type Options struct {
	ModelDir string
	// Photo is a face photo (decoded); the benchmark frame is a 1280×720 window of it.
	Photo image.Image
	// Iterations per measurement (the quick mode uses 3).
	Iterations int
	// References is the size of the 1:N index (200,000 by default).
	References int
	Log        *slog.Logger
}

// Stat is one measurement's distribution in milliseconds.
type Stat struct {
	Name   string
	Median float64
	P95    float64
	N      int
}

// Report holds every measurement.
type Report struct {
	Stats []Stat
	// FrameToVerdict, StagesSum and Search are the headline medians (ms).
	FrameToVerdict, StagesSum, Search float64
	References                        int
	// RSS is the process's VmRSS after a collection with the face models (dlib's, and the
	// modern one when present) and their 1:N indexes of References residents loaded, before
	// anything else (MB); 0 when References is 0.
	RSS           float64
	ModelClass    kiosk.ModelClass // of the recognition model
	DescribeScale float64          // of the crop the frame's face was described from
}

// Run measures. It fails if the photo has no single face.
func Run(ctx context.Context, opt Options) (Report, error) {
	if opt.Iterations < 1 {
		return Report{}, errors.New("bench: iterations must be at least 1")
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	engine, err := dlib.Load(opt.ModelDir, opt.Log)
	if err != nil {
		return Report{}, err
	}
	defer engine.Close()
	an, err := face.NewAnalyzer(engine, face.DefaultOptions())
	if err != nil {
		return Report{}, err
	}
	cal, err := match.Default()
	if err != nil {
		return Report{}, err
	}
	class := engine.Models().Class(face.RecognitionFile)
	verifier, err := face.NewVerifier(cal, cal.ThresholdsFor(class), class, nil)
	if err != nil {
		return Report{}, err
	}

	frame, err := kioskFrame(opt.Photo, 1280, 720)
	if err != nil {
		return Report{}, err
	}
	obs, err := an.Analyze(ctx, frame)
	if err != nil {
		return Report{}, fmt.Errorf("bench photo: %w", err)
	}
	ref := obs.Descriptor
	ref[0] += 0.01 // a reference that is not bit-identical to the live descriptor

	// The modern engine, when its model is in the directory: its stage and the frame-to-verdict
	// with both engines deciding.
	var modern *face.Modern
	var both *face.Verifier
	if mm, err := face.CheckModernModel(opt.ModelDir); err == nil {
		net, err := opencvdnn.Load(mm.Path, 3, face.ArcFaceSize, face.ArcFaceSize, 0)
		if err != nil {
			return Report{}, err
		}
		defer net.Close()
		modern = face.NewModern(net, mm)
		refEmb, err := modern.Embed(ctx, frame, obs.Shape)
		if err != nil {
			return Report{}, err
		}
		th := cal.ThresholdsFor(class)
		th.Modern = mm.Thresholds
		th.Modern.AllowUnverified = true
		if both, err = face.NewVerifier(cal, th, class, nil); err != nil {
			return Report{}, err
		}
		both = both.WithModern(modern, oneTemplate(refEmb))
	}

	// Both 1:N indexes at snapshot size, and the memory of a kiosk holding them with the
	// models, measured before the stage timers load their own copy of dlib's models.
	var searches []search
	var rss float64
	if opt.References > 0 {
		if searches, err = indexes(cal, modern, opt.References); err != nil {
			return Report{}, err
		}
		if rss, err = residentMB(); err != nil {
			return Report{}, err
		}
	}
	stages, err := loadStages(opt.ModelDir)
	if err != nil {
		return Report{}, err
	}
	defer stages.close()
	stages.setImage(frame)
	raw, err := stages.landmarks(obs.Box)
	if err != nil {
		return Report{}, err
	}

	faceless := map[string]*image.YCbCr{}
	for _, sz := range []image.Point{{640, 480}, {1280, 720}, {640, 360}} {
		faceless[fmt.Sprintf("%dx%d", sz.X, sz.Y)] = noFaceFrame(sz.X, sz.Y)
	}
	reference := kiosk.Resident{References: []kiosk.Descriptor{ref}}

	series := map[string][]float64{}
	timeIt := func(name string, f func() error) error {
		start := time.Now()
		if err := f(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		series[name] = append(series[name], ms(time.Since(start)))
		return nil
	}
	detect := func(key string) func() error {
		return func() error {
			faces, err := engine.Detect(ctx, faceless[key], face.HOG)
			if err == nil && len(faces) != 0 {
				err = errors.New("faceless frame has a face")
			}
			return err
		}
	}
	for i := range opt.Iterations {
		if err := ctx.Err(); err != nil {
			return Report{}, err
		}
		steps := []struct {
			name string
			f    func() error
		}{
			{"detect-hog-640x480", detect("640x480")},
			{"detect-hog-1280x720", detect("1280x720")},
			{"detect-hog-640x360", detect("640x360")},
			{"landmarks", func() error { _, err := stages.landmarks(obs.Box); return err }},
			{"descriptor", func() error { _, err := stages.descriptor(raw); return err }},
			{"scale-1280x720-to-640x360", func() error { an.DetectionImage(frame); return nil }},
			{"frame-to-verdict-1280x720", func() error {
				o, err := an.Analyze(ctx, frame)
				if err != nil {
					return err
				}
				_, err = verifier.Verify([]face.Descriptor{o.Descriptor}, reference)
				return err
			}},
		}
		if modern != nil {
			steps = append(steps, struct {
				name string
				f    func() error
			}{"embed-modern", func() error { _, err := modern.Embed(ctx, frame, obs.Shape); return err }},
				struct {
					name string
					f    func() error
				}{"frame-to-verdict-both-1280x720", func() error {
					o, err := an.Analyze(ctx, frame)
					if err != nil {
						return err
					}
					_, err = both.VerifyObservations(ctx, []face.Observation{o}, reference)
					return err
				}})
		}
		for _, s := range steps {
			if err := timeIt(s.name, s.f); err != nil {
				return Report{}, err
			}
		}
		series["stages-sum"] = append(series["stages-sum"],
			series["detect-hog-640x360"][i]+series["landmarks"][i]+series["descriptor"][i])
		if modern != nil {
			series["stages-sum-both"] = append(series["stages-sum-both"], series["stages-sum"][i]+series["embed-modern"][i])
		}
	}

	rep := Report{References: opt.References, ModelClass: engine.Models().Class(face.RecognitionFile),
		DescribeScale: obs.DescribeScale, RSS: rss}
	for range opt.Iterations {
		for _, q := range searches {
			if err := timeIt(q.name, q.f); err != nil {
				return Report{}, err
			}
		}
	}
	for _, name := range []string{"detect-hog-640x480", "detect-hog-1280x720", "detect-hog-640x360", "landmarks", "descriptor",
		"stages-sum", "scale-1280x720-to-640x360", "frame-to-verdict-1280x720",
		"embed-modern", "stages-sum-both", "frame-to-verdict-both-1280x720", "search-1:N", "search-1:N-modern"} {
		if v := series[name]; len(v) > 0 {
			rep.Stats = append(rep.Stats, summarise(name, v))
		}
	}
	rep.FrameToVerdict = median(series["frame-to-verdict-1280x720"])
	rep.StagesSum = median(series["stages-sum"])
	rep.Search = median(series["search-1:N"])
	return rep, nil
}

// oneTemplate is the bench's template source: the reference face's modern template.
type oneTemplate face.Embedding

func (t oneTemplate) Template(context.Context, *face.Modern, kiosk.NIK) (face.Embedding, error) {
	return face.Embedding(t), nil
}

// Write prints the report; the last line is the machine-readable summary.
func (r Report) Write(w io.Writer) error {
	var err error
	p := func(format string, a ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, a...)
		}
	}
	p("recognition model: %s\n", r.ModelClass)
	p("frame face described from a crop at scale %.2f of the frame\n", r.DescribeScale)
	p("%-32s %9s %9s %5s\n", "stage", "median_ms", "p95_ms", "n")
	for _, s := range r.Stats {
		name := s.Name
		switch name {
		case "search-1:N":
			name = fmt.Sprintf("search-1:N-%d", r.References)
		case "search-1:N-modern":
			name = fmt.Sprintf("search-1:N-modern-%d", r.References)
		}
		p("%-32s %9.2f %9.2f %5d\n", name, s.Median, s.P95, s.N)
	}
	if r.StagesSum > 0 {
		p("frame-to-verdict / stages-sum = %.2f (stages: HOG on the 640×360 detection frame + landmarks + descriptor, each alone)\n", r.FrameToVerdict/r.StagesSum)
	}
	if r.RSS > 0 {
		p("VmRSS with the face models and their 1:N indexes of %d residents, after GC: %.0f MB (the kiosk's goal: 400 with everything)\n", r.References, r.RSS)
	}
	p("face-bench frame-to-verdict-ms %.1f stages-sum-ms %.1f search-200k-ms %.1f rss-mb %.0f\n", r.FrameToVerdict, r.StagesSum, r.Search, r.RSS)
	return err
}

func summarise(name string, v []float64) Stat {
	s := slices.Clone(v)
	slices.Sort(s)
	p95 := s[min(len(s)-1, int(math.Ceil(0.95*float64(len(s))))-1)]
	return Stat{Name: name, Median: median(s), P95: p95, N: len(s)}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// kioskFrame cuts a w×h window centred on the photo's middle (padded with grey): a webcam
// frame with the citizen at counter distance.
func kioskFrame(photo image.Image, w, h int) (*image.YCbCr, error) {
	if photo == nil {
		return nil, errors.New("bench: no photo")
	}
	canvas := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(canvas, canvas.Bounds(), image.NewUniform(color.Gray{100}), image.Point{}, draw.Src)
	pb := photo.Bounds()
	off := image.Pt((w-pb.Dx())/2, (h-pb.Dy())/2)
	draw.Draw(canvas, pb.Sub(pb.Min).Add(off), photo, pb.Min, draw.Src)
	return face.ToYCbCr(canvas), nil
}

// noFaceFrame is a textured frame without a face: HOG's cost does not depend on content.
func noFaceFrame(w, h int) *image.YCbCr {
	r := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		for x := range w {
			m.Y[y*m.YStride+x] = uint8(128 + 60*math.Sin(float64(x)/13)*math.Cos(float64(y)/17) + float64(r.IntN(20)))
		}
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = 120, 135
	}
	return m
}

// search is one timed 1:N query.
type search struct {
	name string
	f    func() error
}

// indexes builds dlib's 1:N index over n synthetic references drawn like the calibration's
// people and, with the modern engine, its index over n random unit templates (strangers to
// each other, as real templates nearly are), one at a time as a snapshot is read; it returns
// a query of each.
func indexes(cal *match.Calibration, modern *face.Modern, n int) ([]search, error) {
	b := match.NewIndexBuilder(cal, n)
	const chunk = 8192
	for start := 0; start < n; start += chunk {
		refs, err := match.SyntheticReferences(cal, min(chunk, n-start), uint64(start)+1)
		if err != nil {
			return nil, err
		}
		for i, r := range refs {
			if err := b.Add(fmt.Sprintf("synthetic-%d", start+i), r.Descriptor); err != nil {
				return nil, err
			}
		}
	}
	ix, err := b.Index()
	if err != nil {
		return nil, err
	}
	// A live descriptor drawn like the references: searching the stand-in's descriptor
	// would measure an input unlike any real face.
	probe, err := match.SyntheticReferences(cal, 1, 2)
	if err != nil {
		return nil, err
	}
	out := []search{{"search-1:N", func() error {
		_, err := ix.Search([]face.Descriptor{probe[0].Descriptor}, match.Score(cal.Thresholds.Match))
		return err
	}}}
	if modern == nil {
		return out, nil
	}
	const dim = 512
	rng := rand.New(rand.NewPCG(7, 7))
	tb := match.NewTemplateIndexBuilder(dim, n)
	t := make([]float32, dim)
	for i := range n {
		for k := range t {
			t[k] = float32(rng.NormFloat64())
		}
		if err := tb.Add(fmt.Sprintf("synthetic-%d", i), t); err != nil {
			return nil, err
		}
	}
	tix, err := tb.Index()
	if err != nil {
		return nil, err
	}
	q := slices.Clone(t) // the last resident, as a live face would find it
	q[0] += 0.1
	th := modern.Model().Thresholds.Match
	return append(out, search{"search-1:N-modern", func() error {
		_, err := tix.Search(q, th-0.01, 10)
		return err
	}}), nil
}

// residentMB is the process's VmRSS after a collection, in MB.
func residentMB() (float64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("memory: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				return 0, fmt.Errorf("memory: VmRSS %q: %w", v, err)
			}
			return kb / 1024, nil
		}
	}
	return 0, errors.New("memory: no VmRSS in /proc/self/status")
}
