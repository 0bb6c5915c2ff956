package appbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/face"
)

// Options size a full run.
type Options struct {
	Dir        string // work directory (stores, probe files); the caller removes it
	ModelDir   string // dlib models; "" measures without the face pipeline and says so
	Residents  int    // snapshot of the memory and start-up store
	PreviewFor time.Duration
	PreviewFPS float64
	Width      int
	Height     int
	Runs       int    // start-ups and visits
	FacePhoto  string // the face in the preview's scene; "" is DebianFace, "none" none
	// KioskBin is the ikd-kiosk binary started under the display for the window's start-up;
	// "" (or no DISPLAY) skips that row.
	KioskBin string
	// Memory measures the store in dir in a fresh process; nil measures in this one.
	Memory func(ctx context.Context, dir string) (Memory, error)
	Log    *slog.Logger
}

// Report is a full run's measurements.
type Report struct {
	Options   Options
	Preview   PreviewResult
	Window    []StartUp       // one per run; empty when not measured
	WindowWhy string          // why Window is empty
	InProcess []time.Duration // OpenToLogin per run
	Memory    Memory
	Visits    []app.Timings
	FaceBand  string
}

// StartUp is one start of the real ikd-kiosk window.
type StartUp struct {
	Unlock, Login time.Duration // since process start, as the kiosk measured it
	Wall          time.Duration // exec to exit, as this process measured it
}

// Run measures everything in o's order: preview, memory, start-up, visits.
func Run(ctx context.Context, o Options) (Report, error) {
	if o.Runs <= 0 {
		o.Runs = 1
	}
	r := Report{Options: o}
	var err error
	pdir := filepath.Join(o.Dir, "preview")
	if err := os.MkdirAll(pdir, 0o700); err != nil {
		return r, err
	}
	photo := o.FacePhoto
	if photo == "" {
		photo = DebianFace
	}
	if photo == "none" {
		photo = ""
	}
	r.Preview, err = Preview(ctx, PreviewConfig{Dir: pdir, ModelDir: o.ModelDir, FacePhoto: photo, Width: o.Width, Height: o.Height,
		FPS: o.PreviewFPS, Duration: o.PreviewFor, Log: o.Log})
	if err != nil {
		return r, fmt.Errorf("preview: %w", err)
	}

	sdir := filepath.Join(o.Dir, "kiosk")
	if err := os.MkdirAll(sdir, 0o700); err != nil {
		return r, err
	}
	// The modern engine's templates come with the snapshot, as from a registry that described
	// every reference photo (ikd-registry residents import --models).
	engine := ""
	if mm, err := face.CheckModernModel(o.ModelDir); o.ModelDir != "" && err == nil {
		engine = mm.Engine
	}
	if err := PrepareStore(ctx, sdir, o.Residents, engine); err != nil {
		return r, err
	}
	measure := o.Memory
	if measure == nil {
		measure = func(ctx context.Context, dir string) (Memory, error) { return MeasureMemory(ctx, dir, o.ModelDir) }
	}
	if r.Memory, err = measure(ctx, sdir); err != nil {
		return r, fmt.Errorf("memory: %w", err)
	}

	switch {
	case o.KioskBin == "":
		r.WindowWhy = "no ikd-kiosk binary given (--kiosk-bin)"
	case os.Getenv("DISPLAY") == "":
		r.WindowWhy = "no DISPLAY"
	default:
		for i := range o.Runs {
			s, err := WindowStartUp(ctx, o.KioskBin, sdir, o.ModelDir, filepath.Join(o.Dir, fmt.Sprintf("probe-%d", i)))
			if err != nil {
				return r, fmt.Errorf("window start-up: %w", err)
			}
			r.Window = append(r.Window, s)
		}
	}
	for range o.Runs {
		d, err := OpenToLogin(ctx, sdir, o.ModelDir)
		if err != nil {
			return r, fmt.Errorf("open to login: %w", err)
		}
		r.InProcess = append(r.InProcess, d)
	}

	for range o.Runs {
		t, band, err := Visit(ctx, o.ModelDir, o.Log)
		if err != nil {
			return r, fmt.Errorf("visit: %w", err)
		}
		r.Visits, r.FaceBand = append(r.Visits, t), band
	}
	return r, nil
}

// WindowStartUp starts bin on the kiosk store in dataDir with the start-up probe, the unlock
// secret entered by the probe, the synthetic camera and the models loading in the
// background, and reads the probe's file. fyne's settings go to a fresh HOME under work.
func WindowStartUp(ctx context.Context, bin, dataDir, modelDir, work string) (StartUp, error) {
	var s StartUp
	home := filepath.Join(work, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return s, err
	}
	secretFile, probeFile := filepath.Join(work, "secret"), filepath.Join(work, "probe.txt")
	if err := os.WriteFile(secretFile, benchSecret, 0o600); err != nil {
		return s, err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute) // fyne hangs rather than fails without GLX
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--data", dataDir, "--models", modelDir, "--camera", "synthetic")
	cmd.Env = append(os.Environ(), "HOME="+home, "IKD_STARTUP_PROBE="+probeFile,
		"IKD_STARTUP_PROBE_SECRET_FILE="+secretFile)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	s.Wall = time.Since(start)
	if err != nil {
		return s, fmt.Errorf("%s: %w: %s", bin, err, out)
	}
	b, err := os.ReadFile(probeFile)
	if err != nil {
		return s, fmt.Errorf("start-up probe: %w (output: %s)", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(line, " ")
		if k == "error" {
			return s, fmt.Errorf("start-up probe: %s", v)
		}
		sec, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return s, fmt.Errorf("start-up probe line %q: %w", line, err)
		}
		switch k {
		case "unlock":
			s.Unlock = time.Duration(sec * float64(time.Second))
		case "login":
			s.Login = time.Duration(sec * float64(time.Second))
		}
	}
	if s.Login == 0 {
		return s, errors.New("start-up probe: no login screen recorded")
	}
	return s, nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianOf[T any](xs []T, f func(T) time.Duration) time.Duration {
	ds := make([]time.Duration, len(xs))
	for i, x := range xs {
		ds[i] = f(x)
	}
	return median(ds)
}

func spread(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f–%.2f", slices.Min(ds).Seconds(), slices.Max(ds).Seconds())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func spreadMS(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f–%.0f", ms(slices.Min(ds)), ms(slices.Max(ds)))
}

const mb = 1 << 20

// ColdStart is the start-up number of the last line: the window's login screen when
// measured, else the in-process open-to-login time.
func (r Report) ColdStart() time.Duration {
	if len(r.Window) > 0 {
		return medianOf(r.Window, func(s StartUp) time.Duration { return s.Login })
	}
	return median(r.InProcess)
}

// Write prints the table and the summary line.
func (r Report) Write(w io.Writer) error {
	o, p := r.Options, r.Preview
	var b strings.Builder
	fmt.Fprintf(&b, "kiosk benchmark: camera %dx%d at %.0f fps, models %q, %d residents, %d runs\n",
		p.Width, p.Height, p.SourceFPS, o.ModelDir, o.Residents, len(r.Visits))
	fmt.Fprintf(&b, "%-62s %12s %14s %s\n", "measurement", "value", "runs min–max", "goal")
	row := func(name, value, rng, goal string) { fmt.Fprintf(&b, "%-62s %12s %14s %s\n", name, value, rng, goal) }
	row("preview subscriber (App.Preview) frames/s", fmt.Sprintf("%.1f", p.PreviewFPS()), fmt.Sprintf("%.0f s", p.Elapsed.Seconds()), ">= 15")
	row("  camera bus published frames/s", fmt.Sprintf("%.1f", p.BusFPS()), "", "")
	row(fmt.Sprintf("  QR scanner frames/s (%d/%d read)", p.QRRead, p.QR), fmt.Sprintf("%.1f", p.QRFPS()), "", "")
	if p.FaceLoaded {
		row(fmt.Sprintf("  face analyser frames/s (%d/%d with a face)", p.Faces, p.Face), fmt.Sprintf("%.1f", p.FaceFPS()), "", "")
	} else {
		row("  face analyser", "off", "", "face analysis off (no models)")
	}
	row("fyne frames drawn under Xvfb", "not measured", "-", "")
	if len(r.Window) > 0 {
		unlock := make([]time.Duration, len(r.Window))
		login := make([]time.Duration, len(r.Window))
		wall := make([]time.Duration, len(r.Window))
		for i, s := range r.Window {
			unlock[i], login[i], wall[i] = s.Unlock, s.Login, s.Wall
		}
		row("window: process start → unlock screen (s)", fmt.Sprintf("%.2f", median(unlock).Seconds()), spread(unlock), "")
		row("window: process start → login screen, secret entered (s)", fmt.Sprintf("%.2f", median(login).Seconds()), spread(login), "<= 2")
		row("window: exec → exit after login screen (s)", fmt.Sprintf("%.2f", median(wall).Seconds()), spread(wall), "")
	} else {
		row("window start-up", "not measured", "-", r.WindowWhy)
	}
	row("in-process app.Open + Unlock + officers (s)", fmt.Sprintf("%.2f", median(r.InProcess).Seconds()), spread(r.InProcess), "")
	m := r.Memory
	what := fmt.Sprintf("models + %d-reference 1:N index", m.References)
	if m.Templates > 0 {
		what += fmt.Sprintf(" + %d-template modern index", m.Templates)
	}
	if !m.Models {
		what = fmt.Sprintf("NO models, %d residents", m.References)
	}
	row(fmt.Sprintf("VmRSS, %s, after GC (MB)", what), fmt.Sprintf("%.0f", float64(m.RSS)/mb), "1", "<= 400")
	row("  VmRSS the moment the index was ready (MB)", fmt.Sprintf("%.0f", float64(m.ReadyRSS)/mb), "1", "")
	row("  VmRSS 2 s later, no GC forced (MB)", fmt.Sprintf("%.0f", float64(m.IdleRSS)/mb), "1", "")
	row("  VmHWM, peak of the process (MB)", fmt.Sprintf("%.0f", float64(m.HWM)/mb), "1", "")
	row("  Go heap in use after GC (MB)", fmt.Sprintf("%.0f", float64(m.GoHeap)/mb), "1", "")
	row("  open → models and 1:N index ready (s)", fmt.Sprintf("%.2f", m.Load.Seconds()), "1", "")
	steps := []struct {
		name string
		f    func(app.Timings) time.Duration
	}{
		{"scan", func(t app.Timings) time.Duration { return t.Scan }},
		{"resident", func(t app.Timings) time.Duration { return t.Resident }},
		{"face", func(t app.Timings) time.Duration { return t.Face }},
		{"decision", func(t app.Timings) time.Duration { return t.Decision }},
		{"total", func(t app.Timings) time.Duration { return t.Total }},
	}
	med := make([]time.Duration, len(steps))
	for i, st := range steps {
		ds := make([]time.Duration, len(r.Visits))
		for j, t := range r.Visits {
			ds[j] = st.f(t)
		}
		med[i] = median(ds)
		goal := ""
		if st.name == "face" {
			goal = "band " + r.FaceBand
		}
		row("demo visit QR → approved: "+st.name+" (ms)", fmt.Sprintf("%.1f", ms(med[i])), spreadMS(ds), goal)
	}
	fmt.Fprintf(&b, "kiosk-bench preview-fps %.1f cold-start-s %.2f rss-mb %.0f visit-s %.2f (scan %.2f resident %.2f face %.2f decision %.2f)\n",
		p.PreviewFPS(), r.ColdStart().Seconds(), float64(m.RSS)/mb, med[4].Seconds(),
		med[0].Seconds(), med[1].Seconds(), med[2].Seconds(), med[3].Seconds())
	_, err := io.WriteString(w, b.String())
	return err
}
