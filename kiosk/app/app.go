package app

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/store"
	"github.com/ikd-field/ikd/kiosk/token"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// Config is what a running kiosk is built from.
type Config struct {
	DataDir  string // holds the store (StoreFile)
	ModelDir string // dlib models; "" leaves the face step to the officer's eye, with the reason
	Camera   CameraConfig
	// RegistryURL overrides the registry the store was enrolled with (a test, a proxy).
	RegistryURL string
	HTTP        *http.Client  // for the registry; nil means http.DefaultClient
	IdleLock    time.Duration // 0 means DefaultIdleLock
	Lang        kiosk.Lang
	Log         *slog.Logger // nil discards
	// FaceTimeout bounds one face capture; 0 means the face package's 20 s.
	FaceTimeout time.Duration
	// Citizen, in the demo only, is the person in front of the camera, who reads the screen.
	Citizen Citizen
	// AllowUnverifiedModels is the operator's setting: a face model whose licence is
	// unverified (the modern engine's fr_feature.onnx) may decide a match. Off for a
	// production store; the demo and tests turn it on.
	AllowUnverifiedModels bool
}

// Citizen is the person in front of the camera as the demo scripts them: they put the phone
// away once the kiosk read their QR, and turn their head as the screen prompts.
type Citizen interface {
	QRAccepted()
	FacePrompt(face.Progress)
}

// StoreFile is the kiosk database's name in the data directory.
const StoreFile = "kiosk.db"

// Idle-lock bounds: a supervisor may choose within them.
const (
	DefaultIdleLock = 5 * time.Minute
	MinIdleLock     = time.Minute
	MaxIdleLock     = time.Hour
)

// DefaultRetention is how long an answered record's evidence is kept while Settings.Retention
// is zero (store.DefaultRetention, which argues the number).
const DefaultRetention = store.DefaultRetention

// Face model states in Status.FaceModels.
const (
	FaceLoading     = "loading"
	FaceReady       = "ready"
	FaceUnavailable = "unavailable" // Status.FaceError says why
)

// Errors of the composition root the officer reads.
var (
	ErrLocked = &kiosk.Error{Code: "app.locked", Msg: kiosk.Message{
		ID: "Kiosk terkunci; buka kunci terlebih dahulu.", EN: "The kiosk is locked; unlock it first."}}
	ErrSessionLocked = &kiosk.Error{Code: "app.session_locked", Msg: kiosk.Message{
		ID: "Sesi petugas sudah dikunci; masuk lagi dengan PIN.", EN: "The officer's session is locked; log in again with the PIN."}}
	ErrNoCamera = &kiosk.Error{Code: "app.no_camera", Msg: kiosk.Message{
		ID: "Kamera tidak tersedia; ketik atau pindai token dengan pemindai tangan.",
		EN: "No camera available; type the token or use a hand scanner."}}
	ErrFaceUnavailable = &kiosk.Error{Code: "app.face_unavailable", Msg: kiosk.Message{
		ID: "Pemeriksaan wajah tidak tersedia (model tidak dimuat); hubungi petugas TI.",
		EN: "The face check is unavailable (models not loaded); contact IT support."}}
	ErrNoModels = &kiosk.Error{Code: "app.no_models", Msg: kiosk.Message{
		ID: "model belum dipasang di kiosk ini (hubungi petugas TI); wajah dibandingkan dengan mata petugas.",
		EN: "no models are installed on this kiosk (contact IT support); faces are compared by the officer's eye."}}
	ErrNotEnrolled = &kiosk.Error{Code: "app.not_enrolled", Msg: kiosk.Message{
		ID: "Kiosk belum didaftarkan ke registri — hubungi supervisor untuk kode pendaftaran.",
		EN: "This kiosk is not enrolled with the registry — ask a supervisor for an enrollment code."}}
	ErrSettings = &kiosk.Error{Code: "settings.invalid", Msg: kiosk.Message{
		ID: "Pengaturan di luar batas yang aman.", EN: "The setting is outside its safe bounds."}}
)

// App is a running kiosk: the concrete Kiosk.
type App struct {
	cfg    Config
	log    *slog.Logger
	ctx    context.Context // ends at Close: every goroutine of the App runs under it
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	st         *store.Store
	deps       kiosk.Deps // Faces is set per visit
	engine     *ikdsync.Engine
	syncReason string // why there is no engine
	bus        *camera.Bus
	camStop    context.CancelFunc
	camDone    chan struct{}
	camCfg     CameraConfig // the camera running or tried
	camGen     int          // counts startCamera calls: a stopped camera's late reports are ignored
	cam        CameraStatus
	face       *FacePipeline
	faceStatus string
	faceErr    error         // why the models are unavailable
	faceDone   chan struct{} // closed once loading ended, ready or not
	settings   Settings
	counts     map[kiosk.RecordState]int
	ages       kiosk.DataAges
	closed     bool
	// now measures officers' idleness (wall time on this machine; tests set it).
	now func() time.Time
}

var _ Kiosk = (*App)(nil)

// Open prepares a kiosk from cfg; nothing is read until Unlock. The App's background work
// runs until Close or until ctx ends.
func Open(ctx context.Context, cfg Config) (*App, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("app: no data directory")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.IdleLock == 0 {
		cfg.IdleLock = DefaultIdleLock
	}
	if cfg.Lang == "" {
		cfg.Lang = kiosk.LangID
	}
	actx, cancel := context.WithCancel(ctx)
	a := &App{cfg: cfg, log: cfg.Log, ctx: actx, cancel: cancel, faceDone: make(chan struct{}),
		faceStatus: FaceLoading, now: time.Now}
	a.settings = Settings{CameraDevice: cfg.Camera.Device, CameraWidth: cfg.Camera.Width, CameraHeight: cfg.Camera.Height,
		RegistryURL: cfg.RegistryURL, IdleLock: cfg.IdleLock, Lang: cfg.Lang}
	// The camera needs no store: it starts now, so a missing one is known before unlock.
	a.mu.Lock()
	a.startCamera(cfg.Camera)
	a.mu.Unlock()
	return a, nil
}

// StoreOptions are the options every program opens the kiosk store with: the kiosk id a
// deployment expects ("" for any) and the device-key sealer of audit checkpoints.
func StoreOptions(expectKioskID string) store.Options {
	return store.Options{
		ExpectKioskID: expectKioskID,
		NewSealer: func(id string, key ed25519.PrivateKey) (kiosk.Sealer, error) {
			return ikdsync.NewSealer(id, key)
		},
	}
}

// uuidV7 makes the time-ordered record ids.
type uuidV7 struct{}

func (uuidV7) NewID() string { return uuid.Must(uuid.NewV7()).String() }

// Unlock implements Kiosk.
func (a *App) Unlock(ctx context.Context, secret []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return errors.New("app: closed")
	}
	if a.st != nil {
		return nil
	}
	st, err := store.Open(ctx, filepath.Join(a.cfg.DataDir, StoreFile), secret, StoreOptions(""))
	if err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	sealer, err := ikdsync.NewSealer(st.KioskID(), st.DeviceKey())
	if err != nil {
		st.Close()
		return fmt.Errorf("unlock: %w", err)
	}
	// The supervisor's limits; edited outside the kiosk, the safe defaults apply.
	lim, err := st.Limits(ctx)
	if err != nil {
		a.log.Warn("stored limits unusable; the defaults apply", "err", err)
	}
	a.settings.Stale, a.settings.Retention = lim.Stale, lim.Retention
	a.st = st
	a.deps = kiosk.Deps{Tokens: token.NewVerifier(st), Residents: st, Outbox: st, Audit: st, Sealer: sealer,
		Clock: clockFunc(st.Now), IDs: uuidV7{}, KioskID: st.KioskID(), Freshness: st}
	a.startFace()
	if err := a.startSync(ctx); err != nil {
		a.log.Warn("sync not started", "err", err)
	}
	a.wg.Go(a.refreshCounts)
	a.wg.Go(a.purgeEvidence)
	return nil
}

// clockFunc is the store's anchored clock as a kiosk.Clock.
type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f() }

// startCamera runs the bus on the configured source; a.mu held.
func (a *App) startCamera(c CameraConfig) {
	a.camGen++
	gen := a.camGen
	a.camCfg = c
	// A Reopener reports its states from the bus goroutine, where a.mu is free.
	onState := func(s camera.State, err error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.camGen == gen {
			a.setCamera(s, err)
		}
	}
	src, err := openCamera(c, a.log, onState)
	if err != nil {
		a.setCamera(camera.OpenState(err), err)
		return
	}
	if src == nil {
		a.setCamera(camera.StateNone, nil)
		return
	}
	ctx, stop := context.WithCancel(a.ctx)
	bus, done := camera.NewBus(), make(chan struct{})
	a.bus, a.camStop, a.camDone = bus, stop, done
	if _, reopens := src.(*camera.Reopener); reopens {
		a.setCamera(camera.StateStarting, nil)
	} else {
		a.setCamera(camera.StateReady, nil)
	}
	a.wg.Go(func() {
		defer close(done)
		defer src.Close()
		err := bus.Run(ctx, src)
		if err != nil && ctx.Err() == nil {
			onState(camera.StateLost, err) // a source that is not re-opened
		}
	})
}

// setCamera records and logs a change of the camera's state; a.mu held.
func (a *App) setCamera(s camera.State, err error) {
	if s == a.cam.State && a.cam.Device == a.camCfg.Device {
		return
	}
	a.cam = CameraStatus{State: s, Device: a.camCfg.Device}
	level := slog.LevelInfo
	attrs := []any{"camera", string(s), "device", a.camCfg.Device}
	if err != nil {
		level = slog.LevelWarn
		a.cam.Reason = kiosk.OfficerMessage(err, a.cfg.Lang)
		attrs = append(attrs, "err", err)
	}
	a.log.Log(a.ctx, level, "camera state", attrs...)
}

// RetryCamera implements Kiosk.
func (a *App) RetryCamera() {
	a.mu.Lock()
	c := a.camCfg
	a.mu.Unlock()
	if c.Source != nil {
		return // a given source cannot be opened again
	}
	a.restartCamera(c)
}

// restartCamera stops the bus, waits for its source to close, and starts c. a.mu is not
// held: the stopping bus may take it to report a failure.
func (a *App) restartCamera(c CameraConfig) {
	a.mu.Lock()
	stop, done := a.camStop, a.camDone
	a.bus, a.camStop, a.camDone = nil, nil, nil
	a.camGen++ // the stopping camera's reports no longer count
	a.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.closed {
		a.startCamera(c)
	}
}

// startFace loads the models in the background: the login screen does not wait for them,
// and the face step shows that they are loading. a.mu held.
func (a *App) startFace() {
	dir := a.cfg.ModelDir
	if dir == "" {
		a.faceStatus, a.faceErr = FaceUnavailable, ErrNoModels.With(errors.New("no model directory (IKD_MODELS / --models)"))
		close(a.faceDone)
		return
	}
	st := a.st
	a.wg.Go(func() {
		defer close(a.faceDone)
		p, err := LoadFace(dir, face.DefaultOptions(), a.log)
		if err == nil {
			if err = p.AllowUnverified(a.cfg.AllowUnverifiedModels); err == nil {
				err = p.RefreshIndex(a.ctx, st)
			}
			if err != nil {
				p.Close()
			}
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		switch {
		case err != nil:
			a.faceStatus, a.faceErr = FaceUnavailable, err
			a.log.Warn("face models not loaded", "dir", dir, "err", err)
		case a.closed:
			p.Close()
		default:
			a.face, a.faceStatus = p, FaceReady
		}
	})
}

// FacePipeline waits for the models to load and returns the pipeline, or the reason it is
// unavailable as an ErrFaceUnavailable.
func (a *App) FacePipeline(ctx context.Context) (*FacePipeline, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-a.faceDone:
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.face == nil {
		return nil, ErrFaceUnavailable.With(a.faceErr)
	}
	return a.face, nil
}

// startSync starts the sync engine when the store is enrolled (or a URL is configured); a.mu held.
func (a *App) startSync(ctx context.Context) error {
	url := a.cfg.RegistryURL
	if url == "" {
		var err error
		if url, err = a.st.RegistryURL(ctx); err != nil {
			a.syncReason = err.Error()
			return err
		}
	}
	if url == "" {
		a.syncReason = ErrNotEnrolled.Msg.In(a.cfg.Lang)
		return nil
	}
	e, err := NewSyncEngine(a.st, url, a.cfg.HTTP, a.log, 0)
	if err != nil {
		a.syncReason = err.Error()
		return err
	}
	a.engine, a.syncReason, a.settings.RegistryURL = e, "", url
	a.wg.Go(func() { _ = e.Run(a.ctx) })
	return nil
}

// NewSyncEngine is the sync engine of an enrolled store talking to the registry at url,
// pushing batch records a request (0: the engine's default).
func NewSyncEngine(s *store.Store, url string, hc *http.Client, log *slog.Logger, batch int) (*ikdsync.Engine, error) {
	c := &ikdsync.Client{BaseURL: url, KioskID: s.KioskID(), Key: s.DeviceKey(), HTTP: hc, Now: s.Now}
	return ikdsync.NewEngine(ikdsync.EngineConfig{Store: s, Client: c, Batch: batch, Now: s.Now, Log: log})
}

// Enrolled is what an enrollment brought: the area and how many registry keys are trusted.
type Enrolled struct {
	Area string
	Keys int
}

// Enroll registers the store's device key with the registry at url using a one-time code,
// remembers the registry, trusts its keys and anchors the clock to its time.
func Enroll(ctx context.Context, s *store.Store, url, code string, hc *http.Client) (Enrolled, error) {
	c := &ikdsync.Client{BaseURL: url, KioskID: s.KioskID(), Key: s.DeviceKey(), HTTP: hc, Now: s.Now}
	resp, err := c.Enroll(ctx, code)
	if err != nil {
		return Enrolled{}, err
	}
	if err := s.SetRegistryURL(ctx, url); err != nil {
		return Enrolled{}, err
	}
	if err := s.SetRegistryArea(ctx, resp.Area); err != nil {
		return Enrolled{}, err
	}
	delta, err := ikdsync.DecodeDeltaPage(ikdsync.DeltaPage{Keys: resp.Keys})
	if err != nil {
		return Enrolled{}, fmt.Errorf("registry keys in the enrollment answer: %w", err)
	}
	if delta.Cursor, err = s.SnapshotCursor(ctx); err != nil {
		return Enrolled{}, err
	}
	if _, err := s.ApplyDelta(ctx, delta); err != nil {
		return Enrolled{}, fmt.Errorf("trust registry keys: %w", err)
	}
	if err := s.AnchorClock(ctx, ikdsync.MillisTime(resp.Time)); err != nil {
		return Enrolled{}, err
	}
	return Enrolled{Area: resp.Area, Keys: len(delta.Keys)}, nil
}

// Enroll enrolls the unlocked kiosk with the registry at url and starts syncing with it.
func (a *App) Enroll(ctx context.Context, url, code string) (Enrolled, error) {
	st, err := a.store()
	if err != nil {
		return Enrolled{}, err
	}
	e, err := Enroll(ctx, st, url, code, a.cfg.HTTP)
	if err != nil {
		return Enrolled{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.engine == nil {
		a.cfg.RegistryURL = url
		if err := a.startSync(ctx); err != nil {
			return e, err
		}
	}
	return e, nil
}

// store returns the unlocked store.
func (a *App) store() (*store.Store, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.st == nil {
		return nil, ErrLocked
	}
	return a.st, nil
}

// Store is the unlocked store, for the demo and ikdctl; nil while locked.
func (a *App) Store() *store.Store {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.st
}

// Locked implements Kiosk.
func (a *App) Locked() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.st == nil
}

// Officers implements Kiosk.
func (a *App) Officers(ctx context.Context) ([]kiosk.Officer, error) {
	st, err := a.store()
	if err != nil {
		return nil, err
	}
	return st.Officers(ctx)
}

// Login implements Kiosk.
func (a *App) Login(ctx context.Context, officerID, pin string) (Session, error) {
	st, err := a.store()
	if err != nil {
		return nil, err
	}
	o, err := st.Login(ctx, officerID, pin)
	if err != nil {
		return nil, err
	}
	return &session{app: a, officer: o, lastUsed: a.now()}, nil
}

// refreshCounts keeps the outbox counts of Status fresh, so Status never reads the store.
func (a *App) refreshCounts() {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		a.updateCounts(a.ctx)
		select {
		case <-a.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *App) updateCounts(ctx context.Context) {
	st, err := a.store()
	if err != nil {
		return
	}
	c, err := st.RecordCounts(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("outbox counts", "err", err)
		}
		return
	}
	ages, err := st.DataAges(ctx)
	if err != nil && ctx.Err() == nil {
		a.log.Warn("data ages", "err", err)
	}
	a.mu.Lock()
	a.counts, a.ages = c, ages
	a.mu.Unlock()
}

// purgeEvery is how often the kiosk erases evidence past its retention (store.Purge).
const purgeEvery = 6 * time.Hour

// purgeEvidence runs the retention purge at unlock and every purgeEvery until the app stops.
func (a *App) purgeEvidence() {
	t := time.NewTicker(purgeEvery)
	defer t.Stop()
	for {
		if st, err := a.store(); err == nil {
			a.mu.Lock()
			keep := a.settings.Retention
			a.mu.Unlock()
			if keep <= 0 {
				keep = DefaultRetention
			}
			rep, err := st.Purge(a.ctx, keep, false)
			switch {
			case err != nil && a.ctx.Err() == nil:
				a.log.Warn("retention purge", "err", err)
			case rep.Records+rep.AuditDetails > 0:
				a.log.Info("retention purge", "records", rep.Records, "audit_details", rep.AuditDetails, "before", rep.Before)
			}
		}
		select {
		case <-a.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// stalePolicy is the supervisor's policy, or the default; a.mu must be held.
func (a *App) stalePolicy() kiosk.StalePolicy {
	if a.settings.Stale == (kiosk.StalePolicy{}) {
		return kiosk.DefaultStalePolicy
	}
	return a.settings.Stale
}

// Status implements Kiosk.
func (a *App) Status() Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := Status{Locked: a.st == nil, FaceModels: a.faceStatus, FaceError: a.faceErr, Camera: a.cam, Counts: map[kiosk.RecordState]int{}}
	if a.face != nil {
		s.FaceEngines = a.face.Engines()
	}
	if a.st == nil {
		return s
	}
	s.ClockStatus = a.st.ClockStatus()
	s.Data, s.Now = a.ages, a.st.Now()
	s.Stale = a.stalePolicy().Judge(s.Data, s.Now, kiosk.PurposeActivation)
	for k, v := range a.counts {
		s.Counts[k] = v
	}
	s.Pending = s.Counts[kiosk.RecordPending] + s.Counts[kiosk.RecordSent]
	if a.engine == nil {
		s.SyncUnavailable = a.syncReason
		return s
	}
	es := a.engine.Status()
	s.Pending = es.Pending
	s.PushSuccess, s.PullSuccess = es.Push.LastSuccess, es.Pull.LastSuccess
	s.PushError, s.PullError = es.Push.LastError, es.Pull.LastError
	s.SyncHalted = es.Halted
	s.Online = (es.Push.LastError == nil && !es.Push.LastSuccess.IsZero()) || (es.Pull.LastError == nil && !es.Pull.LastSuccess.IsZero())
	return s
}

// SyncNow implements Kiosk.
func (a *App) SyncNow() {
	a.mu.Lock()
	e := a.engine
	a.mu.Unlock()
	if e != nil {
		e.SyncNow()
	}
}

// SyncRound implements Kiosk (also the demo's and ikdctl sync's round).
func (a *App) SyncRound(ctx context.Context) (ikdsync.RoundResult, error) {
	a.mu.Lock()
	e := a.engine
	a.mu.Unlock()
	if e == nil {
		return ikdsync.RoundResult{}, ErrNotEnrolled
	}
	r, err := e.Round(ctx)
	a.updateCounts(ctx)
	return r, err
}

// Preview implements Kiosk.
func (a *App) Preview(ctx context.Context) (<-chan Frame, error) {
	sub, err := a.subscribe()
	if err != nil {
		return nil, err
	}
	ch := make(chan Frame, 1)
	a.wg.Go(func() {
		defer close(ch)
		defer sub.Close()
		ctx, stop := context.WithCancel(ctx)
		defer stop()
		defer context.AfterFunc(a.ctx, stop)() // the App's end ends the preview too
		for {
			f, err := sub.Next(ctx)
			if err != nil {
				return
			}
			select {
			case ch <- Frame{Image: f.Image, Seq: f.Seq, Captured: f.Captured}:
			case <-ctx.Done():
				return
			}
		}
	})
	return ch, nil
}

func (a *App) subscribe() (*camera.Subscription, error) {
	return a.subscribeWith((*camera.Bus).Subscribe)
}

// Frames subscribes to the camera bus as the kiosk's own QR and face steps do, for analysers
// outside the App (benchmarks, diagnostics). The caller closes the subscription.
func (a *App) Frames() (*camera.Subscription, error) { return a.subscribe() }

// subscribeNew is subscribe for frames published from now on (camera.Bus.SubscribeNew).
func (a *App) subscribeNew() (*camera.Subscription, error) {
	return a.subscribeWith((*camera.Bus).SubscribeNew)
}

func (a *App) subscribeWith(sub func(*camera.Bus) *camera.Subscription) (*camera.Subscription, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, errors.New("app: closed")
	}
	if a.bus == nil {
		return nil, ErrNoCamera.With(fmt.Errorf("camera %s: %s", a.cam.State, a.cam.Reason))
	}
	return sub(a.bus), nil
}

// Settings implements Kiosk.
func (a *App) Settings() Settings {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.settings
	if a.face != nil {
		s.Thresholds = a.face.CurrentThresholds()
	}
	return s
}

// Close implements Kiosk.
func (a *App) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.mu.Unlock()
	a.cancel()
	a.wg.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	if a.face != nil {
		errs = append(errs, a.face.Close())
	}
	if a.st != nil {
		errs = append(errs, a.st.Close())
	}
	return errors.Join(errs...)
}
