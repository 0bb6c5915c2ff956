package demo

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ikd-field/ikd/assets"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/liveness"
	"github.com/ikd-field/ikd/kiosk/token"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// StoryConfig is what the headless demo's story runs with: the flags of `ikd-kiosk --demo`.
type StoryConfig struct {
	Dir    string
	Lang   string
	Models string
	Faces  string
	// Printer is the CUPS queue the receipt is printed on; empty: it is only saved.
	Printer string
	Out     io.Writer
	Log     *slog.Logger
}

// narrator prints the demo's numbered steps in the officer's language.
type narrator struct {
	out  io.Writer
	cat  assets.Catalog
	lang kiosk.Lang
	step int
}

func (n *narrator) say(key string, args ...any) {
	n.step++
	fmt.Fprintf(n.out, "%2d. %s\n", n.step, n.cat.T(key, args...))
}

// RunStory walks one officer through an activation up to the citizen confirming the e-mailed
// code, four refused QR codes, a lost-phone deactivation and a held-up photo, on NewDemo:
// the real kiosk, registry, mail worker and SMTP, in this process.
func RunStory(ctx context.Context, cfg StoryConfig) error {
	lang := kiosk.ParseLang(cfg.Lang)
	cat, err := assets.LoadCatalog(string(lang))
	if err != nil {
		return err
	}
	n := &narrator{out: cfg.Out, cat: cat, lang: lang}
	say := n.say
	fmt.Fprintln(cfg.Out, cat.T("demo.title"))

	// The story's directory outlives it: its last lines point at the receipt PDF and the data
	// (a window demo's temporary directory goes with the window).
	dir := cfg.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "ikd-demo-"); err != nil {
			return fmt.Errorf("demo directory: %w", err)
		}
	}
	d, err := NewDemo(ctx, DemoConfig{Dir: dir, ModelDir: cfg.Models, Faces: cfg.Faces, Lang: lang, Log: cfg.Log})
	if err != nil {
		return err
	}
	defer d.Close()
	k := d.Kiosk
	say("demo.registry", d.RegistryURL, d.Mailbox.Addr())
	say("demo.store", d.Dir, k.Store().KioskID())
	say("demo.enrolled", DemoArea)
	if p, err := k.FacePipeline(ctx); err == nil {
		sayModels(n, p)
	}
	if d.Reference != "" {
		say("demo.citizen", d.Activating.Name, d.Reference, d.CameraPhotos)
	}
	if d.FaceReason != "" {
		say("demo.face.unavailable", d.FaceReason)
	}
	count, err := k.Store().ResidentCount(ctx)
	if err != nil {
		return err
	}
	say("demo.residents", count)

	sess, err := k.Login(ctx, DemoSupervisor.ID, DemoPIN)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	officer := sess.Officer()
	say("demo.officer", officer.Name, officer.Role)

	// The citizen registers in the app and shows the QR to the kiosk's camera.
	citizen := d.Activating
	reg, err := d.Citizen.Register(ctx, citizen.NIK, DemoEmail(citizen), "0812-3456-7789")
	if err != nil {
		return err
	}
	say("demo.register", citizen.NIK.Masked(), reg.ExpiresAt.Local().Format("15:04"))
	act := sess.NewActivation()
	if err := act.ScanQR(ctx, nil); err != nil {
		return fmt.Errorf("scan QR: %w", err)
	}
	say("demo.scan", act.Timings().Scan.Milliseconds())
	tok := act.Review().Token
	say("demo.token", tok.NIK.Masked(), tok.MaskedEmail, tok.MaskedPhone)
	if err := act.FindResident(ctx); err != nil {
		return err
	}
	r := act.Review().Resident
	say("demo.resident", r.Name, r.BirthDate.Format("02-01-2006"), r.Kecamatan)
	if err := faceStep(ctx, act, d, n); err != nil {
		return err
	}
	receipt, err := act.Approve(ctx, kiosk.Approval{EyeChecked: eyeCheck(act)})
	if err != nil {
		return err
	}
	// Any state: the sync engine may already be sending it.
	rec, err := k.Store().Records(ctx, "", 100)
	if err != nil {
		return err
	}
	say("demo.queued", receipt.RecordID, len(envelopeOf(rec, receipt.RecordID)))
	if err := sayRecord(k, envelopeOf(rec, receipt.RecordID), n); err != nil {
		return err
	}
	say("demo.receipt", receipt.MaskedEmail)
	tm := act.Timings()
	say("demo.timings", tm.Scan.Seconds(), tm.Resident.Seconds(), tm.Face.Seconds(), tm.Decision.Seconds(), tm.Total.Seconds())

	// What an attacker or an unlucky citizen brings to the counter is refused with a message
	// the officer can act on (typed in by the hand scanner here).
	_, strangerKey, _ := ed25519.GenerateKey(rand.Reader)
	stranger, _ := token.NewSigner("stranger", strangerKey)
	forgedClaims, err := token.NewClaims(citizen.NIK, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", DemoEmail(citizen), "0812-3456-7789", time.Now(), 10*time.Minute)
	if err != nil {
		return err
	}
	forged, err := stranger.Sign(forgedClaims)
	if err != nil {
		return err
	}
	expired, err := d.IssueToken(citizen.NIK, time.Now().Add(-30*time.Minute))
	if err != nil {
		return err
	}
	refusals := []struct{ key, text string }{
		{"demo.case.replay", reg.Token},
		{"demo.case.forged", forged},
		{"demo.case.expired", expired},
		{"demo.case.damaged", reg.Token[:len(reg.Token)/2]},
	}
	for _, c := range refusals {
		v := sess.NewActivation()
		err := v.EnterToken(ctx, c.text)
		if err == nil {
			return fmt.Errorf("demo: %s was accepted", cat.T(c.key))
		}
		var ke *kiosk.Error
		if !errors.As(err, &ke) {
			return fmt.Errorf("demo: %s: %w", cat.T(c.key), err)
		}
		say("demo.refused", cat.T(c.key), ke.Msg.In(lang))
		if err := v.Abandon(ctx); err != nil {
			return err
		}
	}

	// A citizen who lost their phone has no QR: the officer types the NIK.
	lost := d.LostPhone
	deact := sess.NewDeactivation()
	if err := deact.EnterNIK(ctx, lost.NIK.String()); err != nil {
		return err
	}
	say("demo.deactivation", lost.NIK.Masked())
	if err := deact.FindResident(ctx); err != nil {
		return err
	}
	if err := faceStep(ctx, deact, d, n); err != nil {
		return err
	}
	dr, err := deact.Approve(ctx, kiosk.Approval{EyeChecked: eyeCheck(deact), Reason: "HP hilang"})
	if err != nil {
		return err
	}
	say("demo.deactivated", dr.RecordID)

	if d.PhotoHolder.NIK != "" {
		if err := photoAttack(ctx, d, sess, n); err != nil {
			return fmt.Errorf("photo attack: %w", err)
		}
	} else if d.FaceReason == "" {
		say("demo.face.unavailable", d.PhotoReason)
	}

	counts, err := k.Store().RecordCounts(ctx)
	if err != nil {
		return err
	}
	say("demo.queue", counts[kiosk.RecordPending])

	// The kiosk syncs; the registry accepts both records and e-mails the activation code.
	// (The engine may already have sent them in the background when they were queued: the
	// outbox's states, not this round's counts, say what the registry answered.)
	if _, err := k.SyncRound(ctx); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if counts, err = k.Store().RecordCounts(ctx); err != nil {
		return err
	}
	say("demo.synced", counts[kiosk.RecordAcknowledged], counts[kiosk.RecordRejected], counts[kiosk.RecordPending]+counts[kiosk.RecordSent])
	msg, err := d.Mailbox.WaitFor(ctx, DemoEmail(citizen))
	if err != nil {
		return err
	}
	say("demo.mail", msg.To, msg.Subject)
	for _, line := range strings.Split(strings.TrimRight(msg.Text, "\n"), "\n") {
		fmt.Fprintf(cfg.Out, "    | %s\n", line)
	}
	if err := sayReceipt(ctx, n, d, receipt.RecordID, officer.ID, cfg.Printer); err != nil {
		return fmt.Errorf("receipt: %w", err)
	}
	if msg.Code == "" {
		return errors.New("demo: the e-mail carries no activation code")
	}
	status, err := d.Citizen.ConfirmCode(ctx, reg.RegistrationID, msg.Code)
	if err != nil {
		return err
	}
	say("demo.confirmed", status)

	entries, err := k.Store().VerifyAudit(ctx)
	if err != nil {
		return err
	}
	say("demo.audit", entries)
	say("demo.done", d.Dir)
	return nil
}

// envelopeOf is the signed envelope of record id among recs.
func envelopeOf(recs []kiosk.OutboxRecord, id string) []byte {
	for _, r := range recs {
		if r.ID == id {
			return r.Envelope
		}
	}
	return nil
}

// faceStep runs the visit's face check and, where the band is uncertain, the officer's eye
// check, and says how the demo's citizen answered the turn prompt.
func faceStep(ctx context.Context, v app.Visit, d *Demo, n *narrator) error {
	if err := v.CaptureFace(ctx, nil); err != nil {
		return err
	}
	rv := v.Review()
	if len(rv.Resident.References) == 0 {
		n.say("demo.face.skip", kiosk.ErrNoReference.Msg.In(n.lang))
	} else {
		if prompt, yaw, ok := d.TurnAnswered(); ok {
			key := "demo.citizen.right"
			if prompt == liveness.PromptTurnLeft.Code {
				key = "demo.citizen.left"
			}
			n.say(key, yaw)
		}
		n.say("demo.face", rv.Face.Band, rv.Face.Score)
		if m := rv.Face.Modern; m != nil {
			n.say("demo.face.engines", rv.Face.DecidedBy, m.Similarity, m.Engine)
		}
		if others := rv.Face.OtherNIKs; len(others) > 0 {
			masked := make([]string, len(others))
			for i, o := range others {
				masked[i] = o.Masked()
			}
			n.say("demo.face.others", len(others), strings.Join(masked, ", "))
		}
	}
	if eyeCheck(v) {
		n.say("demo.eye")
	}
	return nil
}

// eyeCheck says whether the officer must compare the face by eye before approving
// (kiosk.NeedsEyeCheck).
func eyeCheck(v app.Visit) bool { return kiosk.NeedsEyeCheck(v.Review().Face) }

// sayRecord checks the queued record's signature, as the registry will, and prints what it
// says about the face check.
func sayRecord(k *app.App, envelope []byte, n *narrator) error {
	pub, _ := k.Store().DeviceKey().Public().(ed25519.PublicKey) // a wrong type fails in Open as a wrong-sized key
	rec, err := ikdsync.Open(envelope, pub)
	if err != nil {
		return fmt.Errorf("open outbox record: %w", err)
	}
	a := rec.Activation
	if a == nil {
		return fmt.Errorf("outbox record is a %s, not an activation", rec.Kind)
	}
	n.say("demo.record", rec.Kind, a.NIK.Masked(), a.FaceBand, a.FaceScore, a.EyeChecked)
	return nil
}

// sayModels prints each model file's class and where it comes from.
func sayModels(n *narrator, p *app.FacePipeline) {
	var rec, lm, det string
	for _, f := range p.Engine.Models().Files {
		s := string(f.Class)
		if f.Source != "" {
			s += " (" + f.Source + ")"
		}
		switch f.File {
		case face.RecognitionFile:
			rec = s
		case face.ShapePredictorFile:
			lm = s
		case face.CNNDetectorFile:
			det = s
		}
	}
	n.say("demo.models", rec, lm, det)
	n.say("demo.engines", p.Engines())
}

// photoAttack holds a still photo up to the camera: the liveness challenge must refuse it,
// and the officer rejects the visit.
func photoAttack(ctx context.Context, d *Demo, sess app.Session, n *narrator) error {
	if err := d.ShowHeldPhoto(ctx); err != nil {
		return err
	}
	holder := d.PhotoHolder
	n.say("demo.photo", holder.Name, filepath.Dir(d.HeldPhoto))
	v := sess.NewDeactivation()
	if err := v.EnterNIK(ctx, holder.NIK.String()); err != nil {
		return err
	}
	if err := v.FindResident(ctx); err != nil {
		return err
	}
	err := v.CaptureFace(ctx, nil)
	var ke *kiosk.Error
	if !errors.As(err, &ke) {
		return fmt.Errorf("demo: a held-up photo was not refused by the face check: %v", err)
	}
	n.say("demo.refused", n.cat.T("demo.case.photo"), ke.Msg.In(n.lang))
	note := "foto dipegang di depan kamera"
	if err := v.Reject(ctx, app.RejectNotPresent, note); err != nil {
		return err
	}
	n.say("demo.photo.rejected", note)
	return nil
}
