package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"image"
	"image/jpeg"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/kiosktest"
	"github.com/ikd-field/ikd/kiosk/store"
	"github.com/ikd-field/ikd/kiosk/token"
	ikdsync "github.com/ikd-field/ikd/sync"
)

const testSecret = "correct horse battery staple"

var officer = kiosk.Officer{ID: "199001012015011002", Name: "Ani Rahayu", Role: kiosk.RoleOfficer}

// kioskEnv is an initialised store with the demo's residents, a trusted registry key and an
// officer, and a synthetic camera showing a QR signed with that key.
type kioskEnv struct {
	dir    string
	signer *token.Signer
	cam    *camera.SyntheticSource
	qr     string // the registration id of the QR the camera shows
}

func newKioskEnv(t *testing.T) *kioskEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Init(ctx, filepath.Join(dir, StoreFile), []byte(testSecret), StoreOptions(""), testSupervisor, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.AddOfficer(ctx, testSupervisor.ID, officer, "135790"); err != nil {
		t.Fatal(err)
	}
	residents := append([]kiosk.Resident(nil), testResidents...)
	residents[0].References = []kiosk.Descriptor{{1}} // Siti has a reference: her face step needs the models
	if _, err := st.ApplyResidents(ctx, residents, nil, "test-1"); err != nil {
		t.Fatal(err)
	}
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	kid := token.DefaultKeyID(pub)
	if err := st.AddRegistryKey(ctx, testSupervisor.ID, kiosk.RegistryKey{KeyID: kid, PublicKey: pub, NotBefore: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner(kid, key)
	if err != nil {
		t.Fatal(err)
	}
	e := &kioskEnv{dir: dir, signer: signer, qr: uuidV7{}.NewID()}
	text := e.token(t, e.qr, time.Now())
	if e.cam, err = camera.NewSyntheticSource(camera.SceneOptions{Text: text, ModulePx: 4, Seed: 3}, 30); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *kioskEnv) token(t *testing.T, regID string, issued time.Time) string {
	t.Helper()
	c, err := token.NewClaims(testResidents[1].NIK, regID, "agus.salim@mail.demo", "0812-3456-7789", issued, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	text, err := e.signer.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func (e *kioskEnv) open(t *testing.T) *App {
	t.Helper()
	a, err := Open(context.Background(), Config{DataDir: e.dir, Camera: CameraConfig{Source: e.cam}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return a
}

func (e *kioskEnv) session(t *testing.T, a *App, id, pin string) Session {
	t.Helper()
	ctx := context.Background()
	if err := a.Unlock(ctx, []byte(testSecret)); err != nil {
		t.Fatal(err)
	}
	s, err := a.Login(ctx, id, pin)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestUnlockWithAWrongSecretStaysLocked(t *testing.T) {
	e := newKioskEnv(t)
	a := e.open(t)
	err := a.Unlock(context.Background(), []byte("not the secret at all"))
	if !errors.Is(err, store.ErrWrongSecret) {
		t.Fatalf("unlock: %v, want ErrWrongSecret", err)
	}
	if !a.Locked() || !a.Status().Locked {
		t.Fatal("kiosk unlocked by a wrong secret")
	}
	if _, err := a.Login(context.Background(), officer.ID, "135790"); !errors.Is(err, ErrLocked) {
		t.Fatalf("login while locked: %v", err)
	}
}

// An activation from the camera's QR to the receipt, with the step timings, the statistics
// and the CSV export; without models or a registry the status says so.
func TestActivationFromCameraToReceipt(t *testing.T) {
	ctx := context.Background()
	e := newKioskEnv(t)
	a := e.open(t)
	s := e.session(t, a, officer.ID, "135790")

	st := a.Status()
	if st.Camera.State != camera.StateReady || st.FaceModels == FaceReady || st.SyncUnavailable == "" {
		t.Fatalf("status %+v: want the camera ready, no models and no sync", st)
	}
	v := s.NewActivation()
	var (
		hints   []string
		outline []image.Point
	)
	// The screen reads the visit while the scan runs (progress comes from the scanning
	// goroutine): that must not wait for the scan.
	scan := func(p ScanProgress) {
		hints = append(hints, p.Hint)
		if p.Hint == HintQRRead {
			outline = p.Outline
		}
		if v.State() != kiosk.StateIdle && p.Hint != HintQRRead {
			t.Errorf("state %s while scanning", v.State())
		}
	}
	if err := v.ScanQR(ctx, scan); err != nil {
		t.Fatalf("scan: %v", err)
	}
	if len(hints) == 0 || hints[len(hints)-1] != HintQRRead {
		t.Errorf("scan hints %v end without %q", hints, HintQRRead)
	}
	if len(outline) != 4 {
		t.Errorf("the read QR's outline is %v, want its 4 corners for the preview", outline)
	}
	if got := v.Review().Token.RegistrationID; got != e.qr {
		t.Fatalf("scanned registration %s, want %s", got, e.qr)
	}
	if err := v.FindResident(ctx); err != nil {
		t.Fatal(err)
	}
	// No reference descriptor: the core leaves the face to the officer's eye, no models needed.
	if err := v.CaptureFace(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if v.State() != kiosk.StateFaceUncertain {
		t.Fatalf("state %s", v.State())
	}
	// No reference photo either: the officer's tick cannot stand for a comparison nobody can
	// make, and a supervisor named without their PIN in this session does not count.
	for _, ap := range []kiosk.Approval{{}, {EyeChecked: true}, {Supervisor: testSupervisor}} {
		if _, err := v.Approve(ctx, ap); !errors.Is(err, kiosk.ErrSupervisorRequired) {
			t.Fatalf("approve %+v with no reference photo: %v", ap, err)
		}
	}
	if _, err := s.ConfirmSupervisor(ctx, testSupervisor.ID, testPIN); err != nil {
		t.Fatal(err)
	}
	r, err := v.Approve(ctx, kiosk.Approval{Supervisor: kiosk.Officer{ID: testSupervisor.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.MaskedEmail, "*") || !strings.HasSuffix(r.MaskedEmail, "@mail.demo") {
		t.Errorf("receipt e-mail %q", r.MaskedEmail)
	}
	if r.RecordID == "" || r.Name != "Agus Salim" || r.OfficerID != officer.ID {
		t.Errorf("receipt %+v", r)
	}
	tm := v.Timings()
	if tm.Scan <= 0 || tm.Total < tm.Scan+tm.Resident+tm.Face+tm.Decision {
		t.Errorf("timings %+v", tm)
	}
	recs, err := s.Records(ctx, kiosk.RecordPending, 10)
	if err != nil || len(recs) != 1 || recs[0].ID != r.RecordID {
		t.Fatalf("pending records %v, %v", recs, err)
	}
	if recs, err := s.Records(ctx, "", 0); err != nil || len(recs) != 0 {
		t.Fatalf("records with limit 0: %v, %v", recs, err)
	}
	// The paper receipt is read back from the signed record, as ikdctl receipt reads it, and
	// its issue is audited (an unknown record issues nothing).
	audited, err := a.Store().VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	paper, err := s.PaperReceipt(ctx, r.RecordID)
	if err != nil || paper.Name != r.Name || paper.NIK != r.NIK || paper.OfficerID != officer.ID ||
		paper.KioskID != r.KioskID || paper.Kind != kiosk.KindActivation || paper.State != kiosk.RecordPending ||
		!paper.At.Equal(r.At) || paper.Area == "" || paper.Ref() != kiosk.ShortRef(r.RecordID) {
		t.Fatalf("paper receipt %+v, %v; want the receipt %+v", paper, err, r)
	}
	if _, err := s.PaperReceipt(ctx, "0190a1b2-0000-7000-8000-000000000000"); !errors.Is(err, ErrNoSuchReceipt) {
		t.Fatalf("paper receipt of an unknown record: %v", err)
	}
	if after, err := a.Store().VerifyAudit(ctx); err != nil || after != audited+1 {
		t.Fatalf("audit entries %d → %d (%v) over two receipts, one issued: want one more", audited, after, err)
	}

	sum, err := s.Stats(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Served != 1 || sum.Activated != 1 || sum.MedianVisit <= 0 || sum.P90Visit < sum.MedianVisit {
		t.Fatalf("summary %+v", sum)
	}
}

func TestRejectNeedsAReasonFromTheListAndIsAudited(t *testing.T) {
	ctx := context.Background()
	e := newKioskEnv(t)
	a := e.open(t)
	s := e.session(t, a, officer.ID, "135790")
	v := s.NewActivation()
	if err := v.EnterToken(ctx, " "+e.token(t, uuidV7{}.NewID(), time.Now())+"\n"); err != nil {
		t.Fatalf("typed token: %v", err)
	}
	before, err := a.Store().VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Reject(ctx, RejectOther, "  "); !errors.Is(err, ErrRejectNote) {
		t.Fatalf("other without a note: %v", err)
	}
	if err := v.Reject(ctx, "bored", "x"); !errors.Is(err, ErrRejectReason) {
		t.Fatalf("reason off the list: %v", err)
	}
	if err := v.Reject(ctx, RejectDocument, "alamat berbeda"); err != nil {
		t.Fatal(err)
	}
	after, err := a.Store().VerifyAudit(ctx)
	if err != nil || after != before+1 {
		t.Fatalf("audit entries %d → %d (%v), want one more", before, after, err)
	}
	sum, err := s.Stats(ctx, time.Now())
	if err != nil || sum.RejectedBy[RejectDocument] != 1 {
		t.Fatalf("summary %+v, %v", sum, err)
	}
}

// A resident with a reference needs the face models; without them the face step refuses with
// the reason instead of waiting.
func TestFaceStepWithoutModelsSaysWhy(t *testing.T) {
	ctx := context.Background()
	e := newKioskEnv(t)
	a := e.open(t)
	s := e.session(t, a, officer.ID, "135790")
	v := s.NewDeactivation()
	if err := v.EnterNIK(ctx, "3201014101900001"); err != nil {
		t.Fatal(err)
	}
	if err := v.FindResident(ctx); err != nil {
		t.Fatal(err)
	}
	var loading bool
	err := v.CaptureFace(ctx, func(p FaceProgress) { loading = loading || p.Loading })
	if !errors.Is(err, ErrFaceUnavailable) || !strings.Contains(err.Error(), "IKD_MODELS") {
		t.Fatalf("face step: %v, want ErrFaceUnavailable naming IKD_MODELS", err)
	}
	if !loading {
		t.Error("no loading progress before the models' state was known")
	}
	if err := v.Abandon(ctx); err != nil {
		t.Fatal(err)
	}
	if sum, err := s.Stats(ctx, time.Now()); err != nil || sum.Abandoned != 1 {
		t.Fatalf("summary %+v, %v", sum, err)
	}
}

func TestEnterNIKSaysWhyItIsInvalid(t *testing.T) {
	e := newKioskEnv(t)
	a := e.open(t)
	s := e.session(t, a, officer.ID, "135790")
	err := s.NewDeactivation().EnterNIK(context.Background(), "3201019999900001")
	var ke *kiosk.Error
	if !errors.As(err, &ke) || !strings.HasPrefix(ke.Code, "nik.") {
		t.Fatalf("invalid NIK: %v", err)
	}
}

func TestSupervisorOnlyActions(t *testing.T) {
	ctx := context.Background()
	e := newKioskEnv(t)
	a := e.open(t)
	s := e.session(t, a, officer.ID, "135790")
	if _, err := s.ConfirmSupervisor(ctx, officer.ID, "135790"); !errors.Is(err, kiosk.ErrPermission) {
		t.Fatalf("an officer confirmed as supervisor: %v", err)
	}
	sup, err := s.ConfirmSupervisor(ctx, testSupervisor.ID, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	set := a.Settings()
	set.IdleLock = 10 * time.Minute
	set.Lang = kiosk.LangEN
	if err := s.UpdateSettings(ctx, officer, set); !errors.Is(err, kiosk.ErrPermission) {
		t.Fatalf("officer changed settings: %v", err)
	}
	if err := s.UpdateSettings(ctx, sup, set); err != nil {
		t.Fatal(err)
	}
	if got := a.Settings(); got.IdleLock != 10*time.Minute || got.Lang != kiosk.LangEN {
		t.Fatalf("settings %+v", got)
	}
	// Changing the camera restarts the bus on the new source.
	set.CameraDevice, set.CameraWidth, set.CameraHeight = "synthetic", 640, 480
	if err := s.UpdateSettings(ctx, sup, set); err != nil || a.Status().Camera.State != camera.StateReady {
		t.Fatalf("synthetic camera: %v, status %+v", err, a.Status().Camera)
	}
	if _, err := a.Preview(ctx); err != nil {
		t.Fatalf("preview of the synthetic camera: %v", err)
	}
	set.CameraDevice = ""
	if err := s.UpdateSettings(ctx, sup, set); err != nil || a.Status().Camera.State != camera.StateNone {
		t.Fatalf("no camera: %v, status %+v", err, a.Status().Camera)
	}
	if _, err := a.Preview(ctx); !errors.Is(err, ErrNoCamera) {
		t.Fatalf("preview without a camera: %v", err)
	}
	set.IdleLock = 10 * time.Second
	if err := s.UpdateSettings(ctx, sup, set); !errors.Is(err, ErrSettings) {
		t.Fatalf("idle lock of 10 s: %v", err)
	}
	s.Lock()
	if _, err := s.Stats(ctx, time.Now()); !errors.Is(err, ErrSessionLocked) {
		t.Fatalf("stats after lock: %v", err)
	}
}

// Regression: UpdateSettings dropped SupervisorForDeactivation.
func TestUpdateSettingsKeepsSupervisorForDeactivation(t *testing.T) {
	ctx := context.Background()
	e := newKioskEnv(t)
	a := e.open(t)
	s := e.session(t, a, officer.ID, "135790")
	sup, err := s.ConfirmSupervisor(ctx, testSupervisor.ID, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	set := a.Settings()
	set.SupervisorForDeactivation = true
	if err := s.UpdateSettings(ctx, sup, set); err != nil {
		t.Fatal(err)
	}
	if !a.Settings().SupervisorForDeactivation {
		t.Fatal("SupervisorForDeactivation was not saved")
	}
}

// The supervisor's stale-data limits and retention survive a restart; a bad order or a
// retention under a day is refused and changes nothing; cleared, the defaults apply again.
func TestLimitsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	e := newKioskEnv(t)
	a := e.open(t)
	s := e.session(t, a, testSupervisor.ID, testPIN)
	day := 24 * time.Hour
	want := kiosk.StalePolicy{WarnAfter: 2 * day, SupervisorAfter: 10 * day, StopAfter: 45 * day}
	set := a.Settings()
	set.Stale, set.Retention = want, 60*day
	if err := s.UpdateSettings(ctx, testSupervisor, set); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		name      string
		stale     kiosk.StalePolicy
		retention time.Duration
	}{
		{"warn after supervisor", kiosk.StalePolicy{WarnAfter: 8 * day, SupervisorAfter: 7 * day, StopAfter: 30 * day}, 0},
		{"supervisor after stop", kiosk.StalePolicy{WarnAfter: 3 * day, SupervisorAfter: 31 * day, StopAfter: 30 * day}, 0},
		{"retention under a day", kiosk.StalePolicy{}, time.Hour},
	} {
		n := a.Settings()
		n.Stale, n.Retention = bad.stale, bad.retention
		if err := s.UpdateSettings(ctx, testSupervisor, n); !errors.Is(err, ErrSettings) {
			t.Errorf("%s: %v, want ErrSettings", bad.name, err)
		}
	}
	if got := a.Settings(); got.Stale != want || got.Retention != 60*day {
		t.Fatalf("after refused changes: %+v", got)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	b := e.open(t)
	s = e.session(t, b, testSupervisor.ID, testPIN)
	got := b.Settings()
	if got.Stale != want || got.Retention != 60*day {
		t.Fatalf("after reopen: stale %+v retention %v, want %+v and 60 days", got.Stale, got.Retention, want)
	}
	if v := b.Status().Stale; v.Level != kiosk.StaleFresh {
		t.Fatalf("fresh data under the reopened policy: %+v", v)
	}
	got.Stale, got.Retention = kiosk.StalePolicy{}, 0
	if err := s.UpdateSettings(ctx, testSupervisor, got); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	c := e.open(t)
	e.session(t, c, testSupervisor.ID, testPIN)
	if got := c.Settings(); got.Stale != (kiosk.StalePolicy{}) || got.Retention != 0 {
		t.Fatalf("cleared limits after reopen: %+v", got)
	}
}

func TestThresholdsOnlyStricter(t *testing.T) {
	base := kiosk.FaceThresholds{Match: -0.2, NoMatch: 0.3, MatchMaxDistance: 0.6}
	for _, tc := range []struct {
		name string
		t    kiosk.FaceThresholds
		ok   bool
	}{
		{"same", base, true},
		{"stricter", kiosk.FaceThresholds{Match: -0.3, NoMatch: 0.2, MatchMaxDistance: 0.5}, true},
		{"looser match", kiosk.FaceThresholds{Match: -0.1, NoMatch: 0.3, MatchMaxDistance: 0.6}, false},
		{"looser no-match", kiosk.FaceThresholds{Match: -0.2, NoMatch: 0.4, MatchMaxDistance: 0.6}, false},
		{"guard dropped", kiosk.FaceThresholds{Match: -0.2, NoMatch: 0.3}, false},
		{"guard looser", kiosk.FaceThresholds{Match: -0.2, NoMatch: 0.3, MatchMaxDistance: 0.7}, false},
		{"inverted", kiosk.FaceThresholds{Match: 0.1, NoMatch: -0.5, MatchMaxDistance: 0.6}, false},
	} {
		err := StricterThresholds(base, tc.t)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
		if err != nil && !errors.Is(err, ErrThresholdsLooser) {
			t.Errorf("%s: %v is not ErrThresholdsLooser", tc.name, err)
		}
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 10; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Second)
	}
	if p50, p90 := percentile(ds, 50), percentile(ds, 90); p50 != 5*time.Second || p90 != 9*time.Second {
		t.Fatalf("p50 %v p90 %v", p50, p90)
	}
	if percentile(nil, 90) != 0 {
		t.Fatal("percentile of nothing")
	}
}

// A session left alone longer than the idle lock is locked at its next use.
func TestIdleSessionLocks(t *testing.T) {
	e := newKioskEnv(t)
	a := e.open(t)
	var mu sync.Mutex
	now := time.Now()
	a.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := e.session(t, a, officer.ID, "135790")
	ctx := context.Background()
	if _, err := s.Stats(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(DefaultIdleLock + time.Second)
	mu.Unlock()
	if _, err := s.Stats(ctx, time.Now()); !errors.Is(err, ErrSessionLocked) {
		t.Fatalf("after %v idle: %v", DefaultIdleLock, err)
	}
}

// Activity at the window keeps the session open past the idle time since its last action.
func TestKeepAliveFollowsTheWindow(t *testing.T) {
	e := newKioskEnv(t)
	a := e.open(t)
	var mu sync.Mutex
	now := time.Now()
	a.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := e.session(t, a, officer.ID, "135790")
	ctx := context.Background()
	for range 3 { // three keys, each within the idle time of the one before
		mu.Lock()
		now = now.Add(DefaultIdleLock - time.Second)
		mu.Unlock()
		if err := s.KeepAlive(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Stats(ctx, time.Now()); err != nil {
		t.Fatalf("after activity at the window: %v", err)
	}
	mu.Lock()
	now = now.Add(DefaultIdleLock + time.Second)
	mu.Unlock()
	if err := s.KeepAlive(); !errors.Is(err, ErrSessionLocked) {
		t.Fatalf("keep-alive after the idle time: %v", err)
	}
}

// The idle lock ends the visit it interrupts: abandoning works on the locked session and is
// audited, so the visit is recorded as abandoned, not left open.
func TestIdleLockedVisitIsAbandoned(t *testing.T) {
	e := newKioskEnv(t)
	a := e.open(t)
	var mu sync.Mutex
	now := time.Now()
	a.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := e.session(t, a, officer.ID, "135790")
	ctx := context.Background()
	v := s.NewActivation()
	if err := v.EnterToken(ctx, e.token(t, e.qr, time.Now())); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(DefaultIdleLock + time.Second)
	mu.Unlock()
	if err := v.FindResident(ctx); !errors.Is(err, ErrSessionLocked) {
		t.Fatalf("a step on the idle session: %v", err)
	}
	if err := v.Abandon(ctx); err != nil {
		t.Fatalf("abandon on the locked session: %v", err)
	}
	if v.State() != kiosk.StateAbandoned {
		t.Fatalf("state %s", v.State())
	}
}

// TestReissueCodeQueuesSignedRecord: the officer's re-issue is a code_reissue record signed
// with the device key, audited, listed with its registration and NIK, and one at a time.
func TestReissueCodeQueuesSignedRecord(t *testing.T) {
	ctx := context.Background()
	e := newKioskEnv(t)
	a := e.open(t)
	s := e.session(t, a, officer.ID, "135790")
	nik := testResidents[1].NIK

	if _, err := s.ReissueCode(ctx, "", nik); !errors.Is(err, kiosk.ErrReissueNoRegistration) {
		t.Fatalf("re-issue without a registration: %v", err)
	}
	before, err := a.Store().VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.ReissueCode(ctx, e.qr, nik)
	if err != nil {
		t.Fatal(err)
	}
	st, err := a.store()
	if err != nil {
		t.Fatal(err)
	}
	opened, err := ikdsync.Open(rec.Envelope, st.DeviceKey().Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatalf("the queued envelope does not open with the device key: %v", err)
	}
	got := opened.Reissue
	if opened.Kind != kiosk.KindCodeReissue || got == nil || got.RegistrationID != e.qr || got.NIK != nik ||
		got.OfficerID != officer.ID || got.KioskID != st.KioskID() {
		t.Fatalf("sealed record %+v, re-issue %+v", opened, got)
	}
	recs, err := s.Records(ctx, kiosk.RecordPending, 10)
	if err != nil || len(recs) != 1 || recs[0].ID != rec.ID || recs[0].RegistrationID != e.qr || recs[0].NIK != nik {
		t.Fatalf("pending records %+v, %v", recs, err)
	}
	if _, err := s.ReissueCode(ctx, e.qr, nik); !errors.Is(err, kiosk.ErrReissuePending) {
		t.Fatalf("a second re-issue before the answer: %v", err)
	}
	if a.Status().Counts[kiosk.RecordPending] != 1 {
		t.Errorf("status counts %v, want the re-issue pending", a.Status().Counts)
	}
	if after, err := st.VerifyAudit(ctx); err != nil || after != before+1 {
		t.Fatalf("audit entries %d → %d (%v), want one more", before, after, err)
	}
}

// A damaged reference photo is no photo, for the flow's verdict as for the screen.
func TestDamagedPhotoIsNoPhoto(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		photo []byte
		kept  bool
	}{{"Good", buf.Bytes(), true}, {"Damaged", []byte("not a jpeg"), false}, {"Truncated", buf.Bytes()[:buf.Len()/2], false}} {
		t.Run(tt.name, func(t *testing.T) {
			in := kiosk.Resident{NIK: testResidents[0].NIK, Photo: tt.photo}
			u := usablePhotos{&kiosktest.Residents{ResidentByNIKFn: func(context.Context, kiosk.NIK) (kiosk.Resident, error) {
				return in, nil
			}}, slog.New(slog.DiscardHandler)}
			r, err := u.ResidentByNIK(context.Background(), in.NIK)
			if err != nil || (len(r.Photo) > 0) != tt.kept {
				t.Fatalf("photo kept %v (%v), want %v", len(r.Photo) > 0, err, tt.kept)
			}
		})
	}
}
