package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // reference photos in the snapshot are JPEG
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/qr"
	"github.com/ikd-field/ikd/kiosk/store"
)

// Scan hints (message keys) of ScanProgress.
const (
	HintShowQR      = "scan.show_qr" // no code in view yet
	HintQRRead      = "scan.read"    // a code was read and verified
	HintFaceLoading = "face.loading"
)

// ErrRejectNote: RejectOther needs the officer's words.
var ErrRejectNote = &kiosk.Error{Code: "visit.reject_note", Msg: kiosk.Message{
	ID: "Untuk alasan \"lainnya\", tuliskan alasannya.", EN: "For the reason \"other\", write the reason."}}

// ErrRejectReason: a reason outside the list.
var ErrRejectReason = &kiosk.Error{Code: "visit.reject_reason", Msg: kiosk.Message{
	ID: "Pilih alasan penolakan dari daftar.", EN: "Choose a rejection reason from the list."}}

// RejectReasons is the list the officer picks from, in the order the screen shows it.
var RejectReasons = []RejectReason{RejectFaceMismatch, RejectNotPresent, RejectDocument, RejectCitizenAsked, RejectOther}

// visitDeps are the flow's adapters; each visit brings its own face verifier.
func (a *App) visitDeps() kiosk.Deps {
	a.mu.Lock()
	defer a.mu.Unlock()
	d := a.deps
	d.StalePolicy = a.stalePolicy()
	return d
}

// visit is one citizen at the counter.
type visit struct {
	app     *App
	session *session
	flow    *kiosk.Flow

	// op serialises the actions (a camera step may run for long); mu guards what the screen
	// reads meanwhile: the view of the flow after the last action, the live capture, the
	// timings.
	op       sync.Mutex
	progress func(FaceProgress)
	recorded bool
	mark     time.Time // end of the last step, where the next step's time starts

	mu      sync.Mutex
	start   time.Time
	view    flowView
	live    image.Image
	timings Timings
}

// flowView is what the screen reads of the flow, copied after each action.
type flowView struct {
	state    kiosk.State
	token    kiosk.Token
	resident kiosk.Resident
	face     kiosk.FaceResult
}

var _ Visit = (*visit)(nil)

func (a *App) newVisit(s *session, purpose kiosk.Purpose) *visit {
	now := time.Now()
	v := &visit{app: a, session: s, start: now, mark: now, view: flowView{state: kiosk.StateIdle}}
	deps := a.visitDeps()
	deps.Faces = visitFaces{v}
	deps.Residents = usablePhotos{deps.Residents, a.log}
	if purpose == kiosk.PurposeActivation {
		v.flow = kiosk.NewActivation(deps, s.officer)
	} else {
		v.flow = kiosk.NewDeactivation(deps, s.officer)
	}
	return v
}

func (v *visit) Purpose() kiosk.Purpose { return v.flow.Purpose() }

func (v *visit) State() kiosk.State {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.view.state
}

// step runs one action with v.op held, measures it into *d (added, since the face check may
// be repeated) and publishes the flow's new view.
func (v *visit) step(d *time.Duration, fn func() error) error {
	if err := v.session.active(); err != nil {
		return err
	}
	return v.record(d, fn)
}

// record runs fn, measures it into *d and publishes the flow's new view; step without the
// session check.
func (v *visit) record(d *time.Duration, fn func() error) error {
	err := fn()
	now := time.Now()
	v.mu.Lock()
	defer v.mu.Unlock()
	if err == nil {
		*d += now.Sub(v.mark)
		v.mark = now
	}
	v.view = flowView{state: v.flow.State(), token: v.flow.Token(), resident: v.flow.Resident(), face: v.flow.Face()}
	return err
}

func (v *visit) ScanQR(ctx context.Context, progress func(ScanProgress)) error {
	v.op.Lock()
	defer v.op.Unlock()
	return v.step(&v.timings.Scan, func() error {
		if v.flow.Purpose() != kiosk.PurposeActivation || v.flow.State() != kiosk.StateIdle {
			return &kiosk.TransitionError{From: v.flow.State(), Action: "scan QR"}
		}
		sub, err := v.app.subscribe()
		if err != nil {
			return err
		}
		defer sub.Close()
		var scanner qr.Scanner
		for {
			f, err := sub.Next(ctx)
			if err != nil {
				return fmt.Errorf("scan QR: %w", err)
			}
			text, err := scanner.Decode(ctx, f.Image)
			if errors.Is(err, qr.ErrNotFound) {
				if progress != nil {
					progress(ScanProgress{Hint: HintShowQR})
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("scan QR: %w", err)
			}
			if progress != nil { // the outline of what was read, also when the token is refused
				progress(ScanProgress{Outline: scanner.Outline(), Hint: HintQRRead})
			}
			if err := v.flow.ScanToken(ctx, text); err != nil {
				return err
			}
			if c := v.app.cfg.Citizen; c != nil {
				c.QRAccepted()
			}
			return nil
		}
	})
}

func (v *visit) EnterToken(ctx context.Context, text string) error {
	v.op.Lock()
	defer v.op.Unlock()
	return v.step(&v.timings.Scan, func() error { return v.flow.ScanToken(ctx, strings.TrimSpace(text)) })
}

func (v *visit) EnterNIK(ctx context.Context, text string) error {
	v.op.Lock()
	defer v.op.Unlock()
	return v.step(&v.timings.Scan, func() error { return v.flow.EnterNIK(text) })
}

func (v *visit) FindResident(ctx context.Context) error {
	v.op.Lock()
	defer v.op.Unlock()
	return v.step(&v.timings.Resident, func() error { return v.flow.FindResident(ctx) })
}

func (v *visit) CaptureFace(ctx context.Context, progress func(FaceProgress)) error {
	v.op.Lock()
	defer v.op.Unlock()
	v.progress = progress
	defer func() { v.progress = nil }()
	return v.step(&v.timings.Face, func() error { return v.flow.VerifyFace(ctx) })
}

// usablePhotos drops a reference photo that does not decode: the flow's verdict asks
// whether there is a photo to compare with by eye, and the review shows it, so a damaged
// photo must be no photo to both (else the screen would ask for a supervisor while the flow
// asks for the eye check).
type usablePhotos struct {
	kiosk.Residents
	log *slog.Logger
}

func (u usablePhotos) ResidentByNIK(ctx context.Context, nik kiosk.NIK) (kiosk.Resident, error) {
	r, err := u.Residents.ResidentByNIK(ctx, nik)
	if err != nil || len(r.Photo) == 0 {
		return r, err
	}
	if _, _, derr := image.Decode(bytes.NewReader(r.Photo)); derr != nil {
		u.log.Warn("reference photo unreadable; treated as none", "nik", nik.Masked(), "err", derr)
		r.Photo = nil
	}
	return r, nil
}

// visitFaces is the flow's face verifier: the App's pipeline once loaded, on the camera bus,
// reporting to the visit's progress callback. The flow calls it with v.op held.
type visitFaces struct{ v *visit }

func (f visitFaces) VerifyFace(ctx context.Context, r kiosk.Resident) (kiosk.FaceResult, error) {
	v, a := f.v, f.v.app
	if v.progress != nil {
		v.progress(FaceProgress{Loading: true, Hint: HintFaceLoading})
	}
	p, err := a.FacePipeline(ctx)
	if err != nil {
		return kiosk.FaceResult{}, err
	}
	st, err := a.store()
	if err != nil {
		return kiosk.FaceResult{}, err
	}
	if err := p.RefreshIndex(ctx, st); err != nil {
		return kiosk.FaceResult{}, err
	}
	sub, err := a.subscribeNew()
	if err != nil {
		return kiosk.FaceResult{}, err
	}
	frames := &lastFrame{src: subscriptionSource{sub}}
	defer frames.Close()
	live := p.Live(frames, a.cfg.FaceTimeout, func(pr face.Progress) {
		fp := FaceProgress{Hint: pr.Prompt.Code, Prompt: kiosk.Message{ID: pr.Prompt.ID, EN: pr.Prompt.EN}}
		if pr.Obs != nil {
			fp.Box = pr.Obs.Box
			v.mu.Lock()
			v.live = frames.last
			v.mu.Unlock()
		}
		if c := a.cfg.Citizen; c != nil {
			c.FacePrompt(pr)
		}
		if v.progress != nil {
			v.progress(fp)
		}
	})
	return live.VerifyFace(ctx, r)
}

// lastFrame remembers the newest frame's picture, for the live capture the officer sees.
type lastFrame struct {
	src  camera.Source
	last image.Image
}

func (l *lastFrame) Next(ctx context.Context) (camera.Frame, error) {
	f, err := l.src.Next(ctx)
	if err == nil {
		l.last = f.Image
	}
	return f, err
}

func (l *lastFrame) Close() error { return l.src.Close() }

func (v *visit) Review() Review {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := Review{Token: v.view.token, Resident: v.view.resident, Live: v.live, Face: v.view.face}
	if photo := r.Resident.Photo; len(photo) > 0 {
		if img, _, err := image.Decode(bytes.NewReader(photo)); err == nil {
			r.Reference = img
		} else {
			v.app.log.Warn("reference photo unreadable", "err", err)
		}
	}
	return r
}

func (v *visit) Approve(ctx context.Context, ap kiosk.Approval) (Receipt, error) {
	v.op.Lock()
	defer v.op.Unlock()
	if id := ap.Supervisor.ID; id != "" {
		// Only a supervisor who gave their PIN in this session stands behind an approval.
		sup, ok := v.session.confirmedSupervisor(id)
		if !ok {
			return Receipt{}, kiosk.ErrSupervisorRequired.With(fmt.Errorf("supervisor %s has not confirmed with a PIN", id))
		}
		ap.Supervisor = sup
	}
	if err := v.step(&v.timings.Decision, func() error { return v.flow.Approve(ctx, ap) }); err != nil {
		return Receipt{}, err
	}
	rec := v.flow.Record()
	r := v.flow.Resident()
	receipt := Receipt{RecordID: rec.ID, Purpose: v.flow.Purpose(), MaskedEmail: v.flow.Token().MaskedEmail,
		NIK: v.flow.NIK(), Name: r.Name, At: rec.CreatedAt, KioskID: v.app.visitDeps().KioskID, OfficerID: v.session.officer.ID}
	v.finish(ctx, "approved")
	v.app.SyncNow() // a record was queued: send it while the citizen is still here
	v.app.updateCounts(ctx)
	return receipt, nil
}

func (v *visit) Reject(ctx context.Context, reason RejectReason, note string) error {
	v.op.Lock()
	defer v.op.Unlock()
	note = strings.TrimSpace(note)
	switch {
	case !slices.Contains(RejectReasons, reason):
		return ErrRejectReason.With(fmt.Errorf("reason %q", reason))
	case reason == RejectOther && note == "":
		return ErrRejectNote
	}
	text := string(reason)
	if note != "" {
		text += ": " + note
	}
	if err := v.step(&v.timings.Decision, func() error { return v.flow.Reject(ctx, text) }); err != nil {
		return err
	}
	v.finish(ctx, "rejected:"+string(reason))
	return nil
}

func (v *visit) Abandon(ctx context.Context) error {
	v.op.Lock()
	defer v.op.Unlock()
	started := v.flow.State() != kiosk.StateIdle
	// Ending a visit needs no live session: the idle lock ends the visit its locked session
	// interrupted, and that must reach the audit log.
	if err := v.record(new(time.Duration), func() error { return v.flow.Abandon(ctx) }); err != nil {
		return err
	}
	if started { // a visit that never began served no one
		v.finish(ctx, "abandoned")
	}
	return nil
}

// finish stores the visit's statistics; a failure there must not undo the decision.
func (v *visit) finish(ctx context.Context, outcome string) {
	v.mu.Lock()
	v.timings.Total = time.Since(v.start)
	t := v.timings
	v.mu.Unlock()
	if v.recorded {
		return
	}
	v.recorded = true
	st, err := v.app.store()
	if err != nil {
		return
	}
	err = st.AddVisitStat(ctx, store.VisitStat{At: st.Now(), Purpose: v.flow.Purpose(), Outcome: outcome,
		Scan: t.Scan, Resident: t.Resident, Face: t.Face, Decision: t.Decision, All: t.Total})
	if err != nil {
		v.app.log.Warn("visit statistics not stored", "err", err)
	}
}

func (v *visit) Timings() Timings {
	v.mu.Lock()
	defer v.mu.Unlock()
	t := v.timings
	if !v.view.state.Terminal() {
		t.Total = time.Since(v.start)
	}
	return t
}
