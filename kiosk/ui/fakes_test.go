package ui

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"sync"
	"time"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/receipt"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// Test-only fakes of the kiosk/app interfaces: they follow the contract's shape (a wrong
// secret or PIN is a *kiosk.Error, refusals leave the visit where it was) without any of the
// real packages, so the screens' logic is tested on its own.

var (
	errWrongSecret = &kiosk.Error{Code: "store.wrong_secret", Msg: kiosk.Message{ID: "Kata sandi salah.", EN: "Wrong secret."}}
	errBadPIN      = &kiosk.Error{Code: "officer.bad_credentials", Msg: kiosk.Message{ID: "PIN salah.", EN: "Wrong PIN."}}
	errBadToken    = &kiosk.Error{Code: "token.expired", Msg: kiosk.Message{ID: "QR kedaluwarsa.", EN: "The QR has expired."}}
)

var (
	budi = kiosk.Officer{ID: "198001012005011001", Name: "Budi Santoso", Role: kiosk.RoleOfficer}
	sari = kiosk.Officer{ID: "197502022000032002", Name: "Sari Wulandari", Role: kiosk.RoleSupervisor}
	pins = map[string]string{budi.ID: "1234", sari.ID: "9876"}
	siti = kiosk.Resident{NIK: "3171014508900003", Name: "Siti Aminah", BirthPlace: "Jakarta",
		BirthDate: time.Date(1990, 8, 5, 0, 0, 0, 0, time.UTC), Sex: kiosk.Female,
		Address: "Jl. Melati No. 12 RT 003 RW 005", Kecamatan: "Gambir", Status: kiosk.ResidentActive}
	qrToken = kiosk.Token{NIK: siti.NIK, RegistrationID: "reg-1", MaskedEmail: "s***@gmail.com", MaskedPhone: "0812****789"}
)

type fakeKiosk struct {
	mu         sync.Mutex
	locked     bool
	status     app.Status
	settings   app.Settings
	syncs      int
	round      ikdsync.RoundResult // what SyncRound answers
	roundErr   error
	camRetries int
	records    []kiosk.OutboxRecord
	sess       *fakeSession
	face       kiosk.FaceResult // what the next visit's face step gives
	noPhoto    bool             // the resident has no reference photo
	scanErr    error            // what ScanQR returns (nil: a token is read)
	frame      image.Image
}

func newFakeKiosk() *fakeKiosk {
	return &fakeKiosk{locked: true,
		status: app.Status{FaceModels: "ready", Camera: app.CameraStatus{State: camera.StateReady, Device: "/dev/video0"}, Online: true, Pending: 2,
			Counts:      map[kiosk.RecordState]int{kiosk.RecordPending: 2, kiosk.RecordAcknowledged: 5, kiosk.RecordRejected: 1},
			PushSuccess: time.Date(2026, 12, 1, 9, 30, 0, 0, time.Local), ClockStatus: "synced"},
		settings: app.Settings{CameraDevice: "/dev/video0", CameraWidth: 1280, CameraHeight: 720,
			RegistryURL: "https://registry.example", IdleLock: 5 * time.Minute, Lang: kiosk.LangID,
			Thresholds: kiosk.FaceThresholds{Match: 0.4, NoMatch: 0.6}},
		face:  kiosk.FaceResult{Band: kiosk.BandMatch, Score: 0.21},
		frame: testFrame(640, 360),
	}
}

// testFrame is a camera-like picture: a gradient with a light rectangle (the phone).
func testFrame(w, h int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA{R: uint8(60 + x*80/w), G: uint8(70 + y*60/h), B: 90, A: 255}
			if x > w/3 && x < 2*w/3 && y > h/5 && y < 4*h/5 {
				c = color.NRGBA{R: 235, G: 235, B: 230, A: 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func (k *fakeKiosk) Unlock(_ context.Context, secret []byte) error {
	if string(secret) != "rahasia-kiosk" {
		return errWrongSecret
	}
	k.locked = false
	return nil
}
func (k *fakeKiosk) Locked() bool { return k.locked }
func (k *fakeKiosk) Officers(context.Context) ([]kiosk.Officer, error) {
	return []kiosk.Officer{budi, sari}, nil
}
func (k *fakeKiosk) Login(_ context.Context, id, pin string) (app.Session, error) {
	if pins[id] != pin {
		return nil, errBadPIN
	}
	me := budi
	if id == sari.ID {
		me = sari
	}
	k.sess = &fakeSession{k: k, me: me}
	return k.sess, nil
}
func (k *fakeKiosk) Status() app.Status { return k.status }
func (k *fakeKiosk) RetryCamera() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.camRetries++
}
func (k *fakeKiosk) SyncNow() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.syncs++
}
func (k *fakeKiosk) SyncRound(context.Context) (ikdsync.RoundResult, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.syncs++
	return k.round, k.roundErr
}
func (k *fakeKiosk) Preview(ctx context.Context) (<-chan app.Frame, error) {
	ch := make(chan app.Frame, 1)
	ch <- app.Frame{Image: k.frame, Seq: 1}
	close(ch)
	return ch, nil
}
func (k *fakeKiosk) Settings() app.Settings { return k.settings }
func (k *fakeKiosk) Close() error           { return nil }

type fakeSession struct {
	k       *fakeKiosk
	me      kiosk.Officer
	locked  bool
	visits  []*fakeVisit
	updated *app.Settings
	// keepAlives counts the window's activity reports.
	keepAlives int
}

func (s *fakeSession) Officer() kiosk.Officer { return s.me }
func (s *fakeSession) NewActivation() app.Visit {
	v := &fakeVisit{k: s.k, purpose: kiosk.PurposeActivation, state: kiosk.StateIdle}
	s.visits = append(s.visits, v)
	return v
}
func (s *fakeSession) NewDeactivation() app.Visit {
	v := &fakeVisit{k: s.k, purpose: kiosk.PurposeDeactivation, state: kiosk.StateIdle}
	s.visits = append(s.visits, v)
	return v
}
func (s *fakeSession) ConfirmSupervisor(_ context.Context, id, pin string) (kiosk.Officer, error) {
	if id != sari.ID || pins[id] != pin {
		return kiosk.Officer{}, errBadPIN
	}
	return sari, nil
}
func (s *fakeSession) UpdateSettings(_ context.Context, by kiosk.Officer, n app.Settings) error {
	if by.Role != kiosk.RoleSupervisor {
		return kiosk.ErrPermission
	}
	s.updated = &n
	s.k.settings = n
	return nil
}
func (s *fakeSession) Stats(_ context.Context, day time.Time) (app.DailySummary, error) {
	at := time.Date(2026, 12, 1, 9, 15, 0, 0, time.Local)
	return app.DailySummary{Day: at, Served: 3, Activated: 2, Deactivated: 1,
		RejectedBy: map[app.RejectReason]int{app.RejectFaceMismatch: 1}, MedianVisit: 95 * time.Second, P90Visit: 140 * time.Second,
		Visits: []app.VisitStat{
			{At: at, Purpose: kiosk.PurposeActivation, Outcome: "approved", Timings: app.Timings{Scan: 4 * time.Second, Resident: time.Second, Face: 9 * time.Second, Decision: 30 * time.Second, Total: 44 * time.Second}},
			{At: at.Add(10 * time.Minute), Purpose: kiosk.PurposeDeactivation, Outcome: "approved", Timings: app.Timings{Total: 120 * time.Second}},
		}}, nil
}
func (s *fakeSession) Records(_ context.Context, state kiosk.RecordState, limit int) ([]kiosk.OutboxRecord, error) {
	var out []kiosk.OutboxRecord
	for _, r := range s.k.records {
		if state == "" || r.State == state {
			out = append(out, r)
		}
	}
	return out, nil
}
func (s *fakeSession) ReissueCode(_ context.Context, regID string, nik kiosk.NIK) (kiosk.OutboxRecord, error) {
	for _, r := range s.k.records {
		if r.Kind == kiosk.KindCodeReissue && r.RegistrationID == regID && (r.State == kiosk.RecordPending || r.State == kiosk.RecordSent) {
			return kiosk.OutboxRecord{}, kiosk.ErrReissuePending
		}
	}
	rec := kiosk.OutboxRecord{ID: fmt.Sprintf("reissue-%d", len(s.k.records)), Kind: kiosk.KindCodeReissue,
		RegistrationID: regID, NIK: nik, State: kiosk.RecordPending}
	s.k.records = append(s.k.records, rec)
	return rec, nil
}
func (s *fakeSession) KeepAlive() error {
	s.keepAlives++
	return nil
}
func (s *fakeSession) Lock() { s.locked = true }
func (s *fakeSession) PaperReceipt(_ context.Context, id string) (receipt.Receipt, error) {
	for _, r := range s.k.records {
		if r.ID == id {
			return receipt.Receipt{RecordID: id, Kind: r.Kind, Name: siti.Name, NIK: siti.NIK, Area: siti.Kecamatan,
				At: time.Date(2026, 12, 1, 10, 5, 0, 0, time.Local), KioskID: "KIOSK-3171-01", OfficerID: budi.ID, State: r.State}, nil
		}
	}
	return receipt.Receipt{}, app.ErrNoSuchReceipt
}

// fakePrinter keeps what it was asked to print, or fails with err.
type fakePrinter struct {
	err   error
	pdf   []byte
	title string
}

func (p *fakePrinter) Print(_ context.Context, pdf []byte, title string) (string, error) {
	if p.err != nil {
		return "", p.err
	}
	p.pdf, p.title = pdf, title
	return "PDF-1", nil
}

type fakeVisit struct {
	k        *fakeKiosk
	purpose  kiosk.Purpose
	state    kiosk.State
	nik      kiosk.NIK
	reason   app.RejectReason
	note     string
	approval kiosk.Approval
}

func (v *fakeVisit) Purpose() kiosk.Purpose { return v.purpose }
func (v *fakeVisit) State() kiosk.State     { return v.state }
func (v *fakeVisit) ScanQR(ctx context.Context, progress func(app.ScanProgress)) error {
	progress(app.ScanProgress{Outline: []image.Point{{220, 80}, {420, 80}, {420, 280}, {220, 280}}})
	if v.k.scanErr != nil {
		return v.k.scanErr
	}
	v.state = kiosk.StateTokenScanned
	v.nik = qrToken.NIK
	return nil
}
func (v *fakeVisit) EnterToken(_ context.Context, text string) error {
	if text != "IKD1:valid" {
		return errBadToken
	}
	v.state = kiosk.StateTokenScanned
	v.nik = qrToken.NIK
	return nil
}
func (v *fakeVisit) EnterNIK(_ context.Context, text string) error {
	n, err := kiosk.ParseNIK(text)
	if err != nil {
		return err
	}
	v.nik = n
	v.state = kiosk.StateNIKEntered
	return nil
}
func (v *fakeVisit) FindResident(context.Context) error {
	if v.nik != siti.NIK {
		return kiosk.ErrResidentNotFound
	}
	v.state = kiosk.StateResidentFound
	return nil
}
func (v *fakeVisit) CaptureFace(_ context.Context, progress func(app.FaceProgress)) error {
	progress(app.FaceProgress{Loading: true})
	progress(app.FaceProgress{Box: image.Rect(250, 60, 390, 240), Hint: "ui.face.look"})
	switch v.k.face.Band {
	case kiosk.BandMatch:
		v.state = kiosk.StateFaceMatched
	case kiosk.BandUncertain:
		v.state = kiosk.StateFaceUncertain
	default:
		v.state = kiosk.StateFaceFailed
	}
	return nil
}
func (v *fakeVisit) Review() app.Review {
	r := app.Review{Token: qrToken, Resident: siti, Live: testFrame(300, 360), Reference: testFrame(240, 300), Face: v.k.face}
	if v.k.noPhoto {
		r.Reference = nil
	}
	return r
}
func (v *fakeVisit) Approve(_ context.Context, a kiosk.Approval) (app.Receipt, error) {
	verdict, _ := kiosk.ReviewVerdict(v.k.face, !v.k.noPhoto)
	switch {
	case v.state == kiosk.StateFaceFailed:
		return app.Receipt{}, kiosk.ErrFaceNotMatched
	case verdict == kiosk.VerdictSupervisor && a.Supervisor.Role != kiosk.RoleSupervisor && v.k.sess.me.Role != kiosk.RoleSupervisor:
		return app.Receipt{}, kiosk.ErrSupervisorRequired
	case verdict == kiosk.VerdictEyeCheck && !a.EyeChecked:
		return app.Receipt{}, kiosk.ErrEyeCheckRequired
	case v.purpose == kiosk.PurposeDeactivation && a.Reason == "":
		return app.Receipt{}, kiosk.ErrReasonRequired
	}
	v.approval = a
	v.state = kiosk.StateQueued
	id := "0193a3c2-7b1e-7000-8000-00000000000" + string(rune('1'+len(v.k.records)))
	v.k.records = append(v.k.records, kiosk.OutboxRecord{ID: id, State: kiosk.RecordPending, Kind: kiosk.KindActivation})
	return app.Receipt{RecordID: id, Purpose: v.purpose, MaskedEmail: qrToken.MaskedEmail, NIK: siti.NIK,
		Name: siti.Name, At: time.Date(2026, 12, 1, 10, 5, 0, 0, time.Local), KioskID: "KIOSK-3171-01", OfficerID: budi.ID}, nil
}
func (v *fakeVisit) Reject(_ context.Context, r app.RejectReason, note string) error {
	if r == "" || (r == app.RejectOther && note == "") {
		return kiosk.ErrReasonRequired
	}
	v.reason, v.note, v.state = r, note, kiosk.StateRejected
	return nil
}
func (v *fakeVisit) Abandon(context.Context) error {
	v.state = kiosk.StateAbandoned
	return nil
}
func (v *fakeVisit) Timings() app.Timings { return app.Timings{} }
