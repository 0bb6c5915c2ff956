// Package appbench measures the kiosk application against issue 10's goals: the preview's
// frame rate while the QR and face analysers run, the time to the login screen, resident
// memory with the models and a full snapshot, and the steps of a scripted demo visit. It
// reports numbers and asserts none: the goals are compared in BENCHMARKS.md.
package appbench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/demo"
	"github.com/ikd-field/ikd/kiosk/qr"
	"github.com/ikd-field/ikd/kiosk/store"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

// PreviewConfig sizes the preview measurement.
type PreviewConfig struct {
	Dir           string // a fresh directory for the kiosk's store
	ModelDir      string // dlib models; "" runs the QR analyser only
	FacePhoto     string // the face in the scene; "" leaves it out (DebianFace is the default of Options)
	Width, Height int    // camera frame size; 0 means 1280×720
	FPS           float64
	Duration      time.Duration // counted after the models loaded and a one-second warm-up
	Log           *slog.Logger
}

// PreviewResult is what the preview subscriber saw while the analysers ran.
type PreviewResult struct {
	Width, Height int
	SourceFPS     float64       // the camera's pace
	Elapsed       time.Duration // the counting window
	Published     uint64        // frames the bus fanned out in the window
	Preview       uint64        // frames the preview subscriber received in the window
	QR, Face      uint64        // frames the analysers finished in the window
	QRRead, Faces uint64        // of those, frames where a code was read, a face found
	FaceLoaded    bool          // the face analyser ran (models loaded)
	FaceInScene   bool
}

// PreviewFPS is frames per second the preview subscriber received.
func (r PreviewResult) PreviewFPS() float64 { return perSecond(r.Preview, r.Elapsed) }

// BusFPS is frames per second the bus published.
func (r PreviewResult) BusFPS() float64 { return perSecond(r.Published, r.Elapsed) }

// QRFPS and FaceFPS are the analysers' rates.
func (r PreviewResult) QRFPS() float64   { return perSecond(r.QR, r.Elapsed) }
func (r PreviewResult) FaceFPS() float64 { return perSecond(r.Face, r.Elapsed) }

func perSecond(n uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// benchSecret unlocks the benchmark's stores; they hold synthetic data only.
var benchSecret = []byte("kiosk-bench-unlock-secret")

// Secret is the unlock secret of stores made by PrepareStore.
func Secret() []byte { return slices.Clone(benchSecret) }

// PrepareStore initialises a kiosk store in dir with the demo supervisor and imports a
// synthetic snapshot of residents (one descriptor each), as a kiosk holds after its first
// pull. With engine, every resident also carries a synthetic template of that engine, as a
// snapshot from a registry that described every reference photo does.
func PrepareStore(ctx context.Context, dir string, residents int, engine string) error {
	st, err := store.Init(ctx, filepath.Join(dir, app.StoreFile), benchSecret, app.StoreOptions(""), demo.DemoSupervisor, demo.DemoPIN)
	if err != nil {
		return fmt.Errorf("bench store: %w", err)
	}
	if err := fillStore(ctx, st, residents, engine); err != nil {
		st.Close()
		return err
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("bench store: %w", err)
	}
	return nil
}

// templateChunk is how many residents with templates one transaction writes.
const templateChunk = 5000

// fillStore writes the synthetic snapshot: through an import of its lines, or, with engine,
// as residents that carry a template each (import lines carry none).
func fillStore(ctx context.Context, st *store.Store, residents int, engine string) error {
	if residents == 0 {
		return nil
	}
	if engine == "" {
		var in bytes.Buffer
		if err := snapshot.WriteSynthetic(&in, 1, residents); err != nil {
			return fmt.Errorf("bench snapshot: %w", err)
		}
		if _, err := st.ImportResidents(ctx, &in, "bench"); err != nil {
			return fmt.Errorf("bench snapshot import: %w", err)
		}
		return nil
	}
	for start := 0; start < residents; start += templateChunk {
		chunk := make([]kiosk.Resident, 0, templateChunk)
		for i := start; i < min(start+templateChunk, residents); i++ {
			r := snapshot.Synthetic(1, i)
			t, err := snapshot.SyntheticTemplate(1, i, engine, templateDims)
			if err != nil {
				return fmt.Errorf("bench template: %w", err)
			}
			r.Templates = []kiosk.Template{t}
			chunk = append(chunk, r)
		}
		if _, err := st.ApplyResidents(ctx, chunk, nil, "bench"); err != nil {
			return fmt.Errorf("bench snapshot: %w", err)
		}
	}
	return nil
}

// templateDims is the size of the modern engine's templates (fr_feature.onnx: 512).
const templateDims = 512

// previewScene is the demo's phone as a webcam sees it (kiosk/demo/camera.go), with a code
// the scanner reads on every frame: the scanner's full work, not its early "nothing here".
func previewScene(w, h int) camera.SceneOptions {
	return camera.SceneOptions{Width: w, Height: h, Text: "IKD-BENCH-PREVIEW-0123456789", ModulePx: 4,
		Blur: 0.8, Noise: 6, Moire: 0.3, Seed: 1}
}

// Preview runs the App's camera bus on a synthetic source at cfg.FPS with three
// subscribers, as at the counter during a visit: the QR scanner decoding every frame it
// gets, the face analyser (detection, landmarks, descriptor, quality gate) on every frame it
// gets, and the window's preview channel (App.Preview). It counts the frames each got.
func Preview(ctx context.Context, cfg PreviewConfig) (PreviewResult, error) {
	if cfg.Width == 0 || cfg.Height == 0 {
		cfg.Width, cfg.Height = 1280, 720
	}
	if cfg.FPS <= 0 {
		cfg.FPS = 30
	}
	res := PreviewResult{Width: cfg.Width, Height: cfg.Height, SourceFPS: cfg.FPS}
	if err := PrepareStore(ctx, cfg.Dir, 0, ""); err != nil {
		return res, err
	}
	src, err := newSceneSource(cfg.Width, cfg.Height, cfg.FPS, cfg.FacePhoto)
	if err != nil {
		return res, err
	}
	k, err := app.Open(ctx, app.Config{DataDir: cfg.Dir, ModelDir: cfg.ModelDir, Log: cfg.Log,
		Camera: app.CameraConfig{Source: src}})
	if err != nil {
		return res, err
	}
	defer k.Close()
	if err := k.Unlock(ctx, benchSecret); err != nil {
		return res, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var counting atomic.Bool
	var qrN, qrOK, faceN, faceOK, previewN atomic.Uint64
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // runs before wg.Wait

	qrSub, err := k.Frames()
	if err != nil {
		return res, err
	}
	wg.Go(func() {
		defer qrSub.Close()
		var sc qr.Scanner
		for {
			f, err := qrSub.Next(ctx)
			if err != nil {
				return
			}
			_, err = sc.Decode(ctx, f.Image)
			if err != nil && ctx.Err() != nil {
				return
			}
			if counting.Load() {
				qrN.Add(1)
				if err == nil {
					qrOK.Add(1)
				}
			}
		}
	})
	if cfg.ModelDir != "" {
		p, err := k.FacePipeline(ctx)
		if err != nil {
			return res, err
		}
		res.FaceLoaded = true
		faceSub, err := k.Frames()
		if err != nil {
			return res, err
		}
		wg.Go(func() {
			defer faceSub.Close()
			for {
				f, err := faceSub.Next(ctx)
				if err != nil {
					return
				}
				_, err = p.Analyzer.Analyze(ctx, f.Image)
				if err != nil && ctx.Err() != nil {
					return
				}
				if counting.Load() {
					faceN.Add(1)
					if err == nil {
						faceOK.Add(1)
					}
				}
			}
		})
	}
	frames, err := k.Preview(ctx)
	if err != nil {
		return res, err
	}
	wg.Go(func() {
		for range frames {
			if counting.Load() {
				previewN.Add(1)
			}
		}
	})

	if err := sleep(ctx, time.Second); err != nil { // warm-up: every subscriber is running
		return res, err
	}
	bus0 := busPublished(k)
	start := time.Now()
	counting.Store(true)
	if err := sleep(ctx, cfg.Duration); err != nil {
		return res, err
	}
	counting.Store(false)
	res.Elapsed = time.Since(start)
	res.Published = busPublished(k) - bus0
	res.Preview, res.QR, res.Face = previewN.Load(), qrN.Load(), faceN.Load()
	res.QRRead, res.Faces, res.FaceInScene = qrOK.Load(), faceOK.Load(), cfg.FacePhoto != ""
	return res, nil
}

// busPublished reads the bus's count through a subscription's view of it: the App does not
// export its bus, so a late subscriber's first frame carries the newest sequence number.
func busPublished(k *app.App) uint64 {
	sub, err := k.Frames()
	if err != nil {
		return 0
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	f, err := sub.Next(ctx)
	if err != nil {
		return 0
	}
	return f.Seq
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// OpenToLogin measures, in this process, what stands between a started kiosk and its login
// screen: app.Open, Unlock with the secret (argon2id key derivation, the store's checks, the
// camera, the sync engine and the background model load started) and the officer list the
// login screen reads. Models keep loading after it returns; the App is closed (waiting for
// the load) outside the timing.
func OpenToLogin(ctx context.Context, dir, modelDir string) (time.Duration, error) {
	start := time.Now()
	k, err := app.Open(ctx, app.Config{DataDir: dir, ModelDir: modelDir})
	if err != nil {
		return 0, err
	}
	defer k.Close()
	if err := k.Unlock(ctx, benchSecret); err != nil {
		return 0, err
	}
	if _, err := k.Officers(ctx); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// Memory is the process's memory with the models loaded and the 1:N index built.
type Memory struct {
	RSS, HWM   int64 // VmRSS after a forced collection and VmHWM, bytes
	ReadyRSS   int64 // VmRSS the moment the index was ready
	IdleRSS    int64 // VmRSS two seconds later, no collection forced
	GoHeap     int64 // Go's in-use heap after a collection, bytes
	References int   // residents in the store, each with one descriptor in the index
	Templates  int   // templates in the modern engine's 1:N index (0: none, or no modern model)
	Models     bool  // the models were loaded and the index built
	Load       time.Duration
}

// MeasureMemory opens the kiosk store in dir (made by PrepareStore), waits for the face
// pipeline (models plus the 1:N indexes from the store's references and templates), collects garbage and
// reads /proc/self/status. Run it in a fresh process: whatever the process did before counts.
func MeasureMemory(ctx context.Context, dir, modelDir string) (Memory, error) {
	var m Memory
	start := time.Now()
	k, err := app.Open(ctx, app.Config{DataDir: dir, ModelDir: modelDir})
	if err != nil {
		return m, err
	}
	defer k.Close()
	if err := k.Unlock(ctx, benchSecret); err != nil {
		return m, err
	}
	if modelDir != "" { // without models, the store's share alone (the quick test)
		p, err := k.FacePipeline(ctx)
		if err != nil {
			return m, err
		}
		if m.Templates, err = p.WaitModernIndex(ctx); err != nil {
			return m, err
		}
		m.Models = true
	}
	m.Load = time.Since(start)
	// What the kiosk holds as it becomes ready, before any collection this benchmark forces,
	// and after two seconds of idling (the runtime's scavenger returning freed pages).
	if m.ReadyRSS, _, err = procStatus(); err != nil {
		return m, err
	}
	if err := sleep(ctx, 2*time.Second); err != nil {
		return m, err
	}
	if m.IdleRSS, _, err = procStatus(); err != nil {
		return m, err
	}
	// Counted, not read: reading every row again would itself raise the peak being measured.
	if m.References, err = k.Store().ResidentCount(ctx); err != nil {
		return m, err
	}
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.GoHeap = int64(ms.HeapInuse)
	m.RSS, m.HWM, err = procStatus()
	return m, err
}

// procStatus reads VmRSS and VmHWM (kB in the file) from /proc/self/status.
func procStatus() (rss, hwm int64, err error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0, fmt.Errorf("memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("memory: %s: %w", k, err)
		}
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("memory: %w", err)
	}
	if rss == 0 {
		return 0, 0, errors.New("memory: no VmRSS in /proc/self/status")
	}
	return rss, hwm, nil
}

// Visit runs the demo's activation as the window drives it, from the citizen's QR in view
// to approved: register (the phone shows the QR), scan, resident, face, approve. It returns
// the visit's own Timings; NewDemo and the registration are not part of them.
func Visit(ctx context.Context, modelDir string, log *slog.Logger) (app.Timings, string, error) {
	d, err := demo.NewDemo(ctx, demo.DemoConfig{ModelDir: modelDir, Log: log})
	if err != nil {
		return app.Timings{}, "", err
	}
	defer d.Close()
	s, err := d.Kiosk.Login(ctx, demo.DemoSupervisor.ID, demo.DemoPIN)
	if err != nil {
		return app.Timings{}, "", err
	}
	if _, err := d.Citizen.Register(ctx, d.Activating.NIK, demo.DemoEmail(d.Activating), "0812-3456-7789"); err != nil {
		return app.Timings{}, "", err
	}
	v := s.NewActivation()
	if err := v.ScanQR(ctx, nil); err != nil {
		return app.Timings{}, "", fmt.Errorf("scan QR: %w", err)
	}
	if err := v.FindResident(ctx); err != nil {
		return app.Timings{}, "", fmt.Errorf("resident: %w", err)
	}
	if err := v.CaptureFace(ctx, nil); err != nil {
		return app.Timings{}, "", fmt.Errorf("face: %w", err)
	}
	eye := kiosk.NeedsEyeCheck(v.Review().Face)
	band := string(v.Review().Face.Band)
	if d.FaceReason != "" {
		band = "officer's eye (" + d.FaceReason + ")"
	}
	if _, err := v.Approve(ctx, kiosk.Approval{EyeChecked: eye || d.FaceReason != ""}); err != nil {
		return app.Timings{}, "", fmt.Errorf("approve: %w", err)
	}
	return v.Timings(), band, nil
}
