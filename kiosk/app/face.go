package app

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/dlib"
	"github.com/ikd-field/ikd/kiosk/face/match"
	"github.com/ikd-field/ikd/kiosk/face/opencvdnn"
)

// FacePipeline is the face check assembled in one place for the kiosk, the demo and
// `ikdctl face verify`: dlib's models, the analyzer (detection, landmarks, descriptor,
// quality gate), the shipped calibration with the thresholds for the recognition model's
// class, and the snapshot's 1:N index.
type FacePipeline struct {
	Engine      *dlib.Engine
	Analyzer    *face.Analyzer
	Calibration *match.Calibration
	Model       kiosk.ModelClass     // class of the recognition model: it caps the band
	Thresholds  kiosk.FaceThresholds // the calibration's for Model, and the modern model's
	// Modern is the second, ArcFace-style engine; nil when its model is absent (dlib alone,
	// and ModernReason says why).
	Modern       *face.Modern
	ModernReason string
	net          *opencvdnn.Net
	logger       *slog.Logger

	mu          sync.Mutex
	strict      kiosk.FaceThresholds // Thresholds or stricter ones a supervisor set
	index       *match.Index
	indexCursor string // the snapshot cursor index was built at
	verifier    *face.Verifier
	templates   *photoTemplates
	// modernIndex is the snapshot's modern templates for 1:N (nil until built in the
	// background by startModernIndex, which stopModern stops); life ends at Close, and bg
	// waits for the build.
	modernIndex *match.TemplateIndex
	stopModern  context.CancelFunc
	modernBuilt chan struct{} // closed when the latest build ends (nil: none started)
	life        context.Context
	closeLife   context.CancelFunc
	bg          sync.WaitGroup
}

// LoadFace loads the models in dir and assembles the pipeline without a 1:N index.
func LoadFace(dir string, opt face.Options, log *slog.Logger) (*FacePipeline, error) {
	engine, err := dlib.Load(dir, log)
	if err != nil {
		return nil, err
	}
	p, err := newFacePipeline(engine, opt, log)
	if err != nil {
		engine.Close()
		return nil, err
	}
	return p, nil
}

func newFacePipeline(engine *dlib.Engine, opt face.Options, log *slog.Logger) (*FacePipeline, error) {
	an, err := face.NewAnalyzer(engine, opt)
	if err != nil {
		return nil, err
	}
	cal, err := match.Default()
	if err != nil {
		return nil, err
	}
	class := engine.Models().Class(face.RecognitionFile)
	if log == nil {
		log = slog.Default()
	}
	p := &FacePipeline{Engine: engine, Analyzer: an, Calibration: cal, Model: class, Thresholds: cal.ThresholdsFor(class), logger: log}
	if err := p.loadModern(engine.Models().Dir, log); err != nil {
		return nil, err
	}
	p.strict = p.Thresholds
	p.templates = &photoTemplates{p: p}
	p.life, p.closeLife = context.WithCancel(context.Background())
	if err := p.rebuild(); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// loadModern loads the modern engine's model from dir when it is there. Its absence is not an
// error: the kiosk runs dlib alone and says so. A file that is there but does not load is.
func (p *FacePipeline) loadModern(dir string, log *slog.Logger) error {
	mm, err := face.CheckModernModel(dir)
	if errors.Is(err, face.ErrModelMissing) {
		p.ModernReason = err.Error()
		log.Warn("modern face model absent: dlib decides alone", "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	net, err := opencvdnn.Load(mm.Path, 3, face.ArcFaceSize, face.ArcFaceSize, 0)
	if err != nil {
		return &face.ModelError{File: mm.File, Path: mm.Path, Err: fmt.Errorf("%w: %v", face.ErrModelCorrupt, err)}
	}
	p.net, p.Modern = net, face.NewModern(net, mm)
	p.Thresholds.Modern = mm.Thresholds
	log.Info("modern face model", "file", mm.File, "engine", mm.Engine, "class", mm.Class, "licence", mm.Licence, "source", mm.Source)
	if mm.Licence != kiosk.LicenceCleared {
		log.Warn("modern face model's licence is UNVERIFIED: it decides a match only where the operator allows it (--allow-unverified-models)", "file", mm.File)
	}
	return nil
}

// AllowUnverified applies the operator's setting: may a model whose licence is unverified
// decide a match? The default (false) suits a production store; the demo and tests allow it.
func (p *FacePipeline) AllowUnverified(allow bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Thresholds.Modern.AllowUnverified = allow
	p.strict.Modern.AllowUnverified = allow
	return p.rebuild()
}

// Engines says in words which engines and model classes decide, for the home screen, the
// demo and the log: "dlib (converted)" and, with the modern engine, its file, class and
// licence, and whether it may decide.
func (p *FacePipeline) Engines() string {
	s := fmt.Sprintf("dlib (%s)", p.Model)
	if p.Modern == nil {
		return s + "; modern engine absent"
	}
	m := p.Modern.Model()
	s += fmt.Sprintf(" + %s %s (%s, licence %s", m.File, m.Engine, m.Class, m.Licence)
	th := p.CurrentThresholds().Modern
	switch {
	case th.Match == 0:
		s += ", no thresholds: measured, not deciding)"
	case m.Licence != kiosk.LicenceCleared && !th.AllowUnverified:
		s += ", may NOT decide: unverified licence)"
	case m.Licence != kiosk.LicenceCleared:
		s += ", deciding: the operator allows unverified models)"
	default:
		s += ", deciding)"
	}
	return s
}

func (p *FacePipeline) log() *slog.Logger { return p.logger }

// Close releases the models.
func (p *FacePipeline) Close() error {
	if p.closeLife != nil {
		p.closeLife()
		p.bg.Wait()
	}
	if p.net != nil {
		p.net.Close()
	}
	return p.Engine.Close()
}

// Verifier returns the verifier with the current thresholds and index.
func (p *FacePipeline) Verifier() *face.Verifier {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.verifier
}

// rebuild makes the verifier from the current thresholds and index; p.mu held or p unshared.
func (p *FacePipeline) rebuild() error {
	v, err := face.NewVerifier(p.Calibration, p.strict, p.Model, p.index)
	if err != nil {
		return err
	}
	if p.Modern != nil {
		v = v.WithModern(p.Modern, p.templates).WithModernIndex(p.modernIndex)
	}
	p.verifier = v
	return nil
}

// SetThresholds applies thresholds a supervisor chose; they must be at least as strict as the
// calibration's: a match needs a score no higher, a no-match comes no later, and the raw
// distance guard stays at least as tight.
func (p *FacePipeline) SetThresholds(t kiosk.FaceThresholds) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.Modern == (kiosk.ModernThresholds{}) {
		// A settings screen that knows only dlib's thresholds keeps the modern ones.
		t.Modern = p.strict.Modern
	}
	t.Modern.AllowUnverified = p.strict.Modern.AllowUnverified // the operator's, not a threshold
	if err := StricterThresholds(p.Thresholds, t); err != nil {
		return err
	}
	old := p.strict
	p.strict = t
	if err := p.rebuild(); err != nil {
		p.strict = old
		return err
	}
	return nil
}

// CurrentThresholds are the thresholds in force.
func (p *FacePipeline) CurrentThresholds() kiosk.FaceThresholds {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.strict
}

// ErrThresholdsLooser refuses face thresholds that would accept more than the calibration.
var ErrThresholdsLooser = &kiosk.Error{Code: "settings.thresholds_looser", Msg: kiosk.Message{
	ID: "Ambang wajah hanya boleh lebih ketat daripada kalibrasi, tidak lebih longgar.",
	EN: "Face thresholds may only be stricter than the calibration's, not looser."}}

// StricterThresholds checks that t accepts no face base would refuse.
func StricterThresholds(base, t kiosk.FaceThresholds) error {
	if err := t.Validate(); err != nil {
		return ErrThresholdsLooser.With(err)
	}
	guardLooser := base.MatchMaxDistance > 0 && (t.MatchMaxDistance <= 0 || t.MatchMaxDistance > base.MatchMaxDistance)
	// The modern score grows with likeness: stricter is a higher match and a higher no-match.
	bm, tm := base.Modern, t.Modern
	modernLooser := bm.Match > 0 && (tm.Match < bm.Match || tm.NoMatch < bm.NoMatch) || tm.AllowUnverified && !bm.AllowUnverified
	if t.Match > base.Match || t.NoMatch > base.NoMatch || guardLooser || modernLooser {
		return ErrThresholdsLooser.With(fmt.Errorf("match %v no_match %v distance %v against the calibration's %v %v %v",
			t.Match, t.NoMatch, t.MatchMaxDistance, base.Match, base.NoMatch, base.MatchMaxDistance))
	}
	return nil
}

// ReferenceSource is where the 1:N indexes' references and templates come from (the kiosk's
// store).
type ReferenceSource interface {
	EachResident(ctx context.Context, fn func(kiosk.Resident) error) error
	SnapshotCursor(ctx context.Context) (string, error)
}

// RefreshIndex rebuilds the 1:N index from refs when the snapshot moved since the last
// build (a sync pull or an import changed the residents), so a search never misses a
// resident added since the models loaded.
func (p *FacePipeline) RefreshIndex(ctx context.Context, refs ReferenceSource) error {
	cursor, err := refs.SnapshotCursor(ctx)
	if err != nil {
		return fmt.Errorf("1:N index: %w", err)
	}
	p.mu.Lock()
	built := p.index != nil && p.indexCursor == cursor
	p.mu.Unlock()
	if built {
		return nil
	}
	// Built as the rows come: collecting every reference into a slice first (grown by
	// appending) and then projecting it held two copies of the snapshot's descriptors and
	// took the kiosk's peak memory (VmHWM) to 710 MB at 200,000 references.
	n := 0
	if c, ok := refs.(interface {
		ResidentCount(context.Context) (int, error)
	}); ok {
		if n, err = c.ResidentCount(ctx); err != nil {
			return fmt.Errorf("1:N index: %w", err)
		}
	}
	b := match.NewIndexBuilder(p.Calibration, n)
	lk, photos := refs.(residentLookup)
	// The modern index takes the templates the snapshot carries in the same pass; residents
	// with a photo and no template of the engine are left to the background build.
	var (
		modern     *modernPass
		needPhotos []kiosk.NIK
	)
	if p.Modern != nil {
		modern = &modernPass{engine: p.Modern.Model().Engine, n: n, log: p.log()}
	}
	err = refs.EachResident(ctx, func(r kiosk.Resident) error {
		for _, d := range r.References {
			if err := b.Add(string(r.NIK), d); err != nil {
				return err
			}
		}
		if modern != nil && !modern.add(r) && photos && len(r.Photo) > 0 {
			needPhotos = append(needPhotos, r.NIK)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("1:N index: %w", err)
	}
	ix, err := b.Index()
	if err != nil {
		return fmt.Errorf("1:N index: %w", err)
	}
	p.mu.Lock()
	p.index, p.indexCursor = ix, cursor
	if lk != nil {
		p.templates.reset(lk) // photos may have changed with the snapshot
	}
	if modern != nil {
		p.startModernIndex(cursor, lk, modern.b, needPhotos)
	} else {
		p.dropModernIndex()
	}
	err = p.rebuild()
	p.mu.Unlock()
	// The build's garbage (every row decoded) and any previous index are about as large as
	// the index; the Go runtime would keep those pages for a long while, and the kiosk's
	// resident memory stayed at 417 MB instead of 300 MB at 200,000 references. Hand them
	// back now, once per snapshot change: one collection in the background.
	debug.FreeOSMemory()
	return err
}

// Live is the counter's face verifier on frames: capture with the liveness challenge, then
// the verifier. onProgress, if set, sees every frame's progress.
func (p *FacePipeline) Live(frames camera.Source, timeout time.Duration, onProgress func(face.Progress)) *face.LiveVerifier {
	return &face.LiveVerifier{Analyzer: p.Analyzer, Frames: frames, Verifier: p.Verifier(),
		Capture: face.DefaultCaptureConfig(), Timeout: timeout, OnProgress: onProgress}
}

// Describe is the descriptor of the one face in a still picture (a reference photo).
func (p *FacePipeline) Describe(ctx context.Context, img image.Image) (kiosk.Descriptor, error) {
	obs, err := p.Analyzer.Analyze(ctx, img)
	if err != nil {
		return kiosk.Descriptor{}, err
	}
	return obs.Descriptor, nil
}
