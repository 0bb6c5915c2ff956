package ui

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // reference photos in the snapshot are JPEG
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
)

// ReviewPanel is what the officer reads back and compares before deciding. The face check
// is one line with one instruction (Verdict), worded from kiosk.ReviewVerdict; the score stays
// in the record and the statistics.
type ReviewPanel struct {
	s        *Shell
	v        app.Visit
	r        app.Review
	ref      image.Image // the reference photo, decoded once; nil when there is none
	Name     *widget.Label
	Birth    *widget.Label
	Address  *widget.Label
	Contact  *widget.Label // masked e-mail and phone, to read back (activation)
	Verdict  *widget.Label
	EyeCheck *bigCheck
	Reason   *keyEntry // deactivation reason
	Approve  *widget.Button
	Reject   *widget.Button
	Error    *widget.Label
	// Rejecting and Supervisor are the reject reasons and the supervisor's PIN while shown.
	Rejecting  *RejectPanel
	Supervisor *SupervisorScreen
	verdict    kiosk.Verdict
	// supervised: approval goes through a supervisor, for the verdict or because the kiosk
	// requires one for deactivations.
	supervised bool
	root       *fyne.Container
	cancel     func()
}

func newReviewPanel(s *Shell, v app.Visit, cancel func(), supervised bool) *ReviewPanel {
	r := v.Review()
	tx := s.tx
	p := &ReviewPanel{s: s, v: v, r: r, cancel: cancel, Error: errLabel(), root: container.NewStack()}
	res := r.Resident
	p.Name = heading(res.Name)
	p.Birth = wrapped(tx.T("ui.review.birth", res.BirthPlace, res.BirthDate.Format("02-01-2006"), string(res.NIK)))
	p.Address = wrapped(tx.T("ui.review.address", res.Address, res.Kecamatan))
	p.Contact = wrapped(tx.T("ui.review.contact", orDash(r.Token.MaskedEmail), orDash(r.Token.MaskedPhone)))
	var esc []kiosk.Escalation
	p.ref = p.referencePhoto()
	p.verdict, esc = kiosk.ReviewVerdict(r.Face, p.ref != nil)
	p.supervised = supervised || p.verdict == kiosk.VerdictSupervisor || s.staleNeedsSupervisor(v.Purpose())
	s.log.Info("review shown", "verdict", p.verdict, "escalation", fmt.Sprint(esc), "purpose", v.Purpose())
	p.EyeCheck = newBigCheck(s, tx.T("ui.review.eye_check"), func(bool) { s.touch(); p.enableApprove() })
	if p.verdict != kiosk.VerdictEyeCheck {
		p.EyeCheck.Hide()
	}
	p.Reason = newKeyEntry(s)
	p.Reason.SetText(tx.T("ui.deactivation.default_reason"))
	p.Reason.OnSubmitted = func(string) { p.defaultAction() }
	if v.Purpose() != kiosk.PurposeDeactivation {
		p.Reason.Hide()
	} else {
		p.Contact.Hide()
	}
	p.Approve = s.bigButton("ui.review.approve", p.approve)
	if v.Purpose() == kiosk.PurposeDeactivation {
		// Its own words and colour: the officer must not confirm a lost phone thinking it is
		// an activation (the home screen's lost-phone button is the same warning colour).
		p.Approve.SetText(tx.T("ui.review.approve_deactivation"))
		p.Approve.Importance = widget.WarningImportance
	}
	if p.supervised {
		key := "ui.review.by_supervisor_pin"
		if s.sess.Officer().Role == kiosk.RoleSupervisor {
			key = "ui.review.by_supervisor_self"
		}
		p.Approve.SetText(p.Approve.Text + " " + tx.T(key))
	}
	// The verdict names the button it sends the officer to, in that button's words.
	p.Verdict = wrapped(s.verdictWords(p.verdict, esc, r.Face.OtherNIKs, p.Approve.Text))
	p.Verdict.TextStyle = fyne.TextStyle{Bold: true}
	p.Verdict.SizeName = theme.SizeNameSubHeadingText
	p.Verdict.Importance = verdictImportance[p.verdict]
	p.Reject = s.button("ui.review.reject", p.startReject)
	p.Reject.Importance = widget.DangerImportance
	if p.verdict == kiosk.VerdictNoMatch {
		p.Approve.Hide() // nothing to approve: the one way on is the rejection
	}
	p.enableApprove()
	p.root.Objects = []fyne.CanvasObject{p.decisionView()}
	return p
}

var verdictImportance = map[kiosk.Verdict]widget.Importance{
	kiosk.VerdictMatch:      widget.SuccessImportance,
	kiosk.VerdictEyeCheck:   widget.WarningImportance,
	kiosk.VerdictSupervisor: widget.WarningImportance,
	kiosk.VerdictNoMatch:    widget.DangerImportance,
}

// verdictWords is the verdict as one line: what the check found and the one thing to do.
func (s *Shell) verdictWords(v kiosk.Verdict, esc []kiosk.Escalation, others []kiosk.NIK, approve string) string {
	switch v {
	case kiosk.VerdictMatch:
		return s.tx.T("ui.verdict.match", approve)
	case kiosk.VerdictEyeCheck:
		return s.tx.T("ui.verdict.eye_check", approve)
	case kiosk.VerdictNoMatch:
		return s.tx.T("ui.verdict.no_match")
	}
	niks := make([]string, len(others))
	for i, n := range others {
		niks[i] = string(n)
	}
	other, noPhoto := slices.Contains(esc, kiosk.EscalateOtherNIK), slices.Contains(esc, kiosk.EscalateNoPhoto)
	switch {
	case other && noPhoto:
		return s.tx.T("ui.verdict.supervisor_both", strings.Join(niks, ", "))
	case other:
		return s.tx.T("ui.verdict.supervisor_other_nik", strings.Join(niks, ", "))
	}
	return s.tx.T("ui.verdict.supervisor_no_photo")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// enableApprove allows approval once what the verdict asks of the officer is done: the
// eye check confirmed where it is asked for. No refusal after the press, no mixed signals.
func (p *ReviewPanel) enableApprove() {
	if p.verdict == kiosk.VerdictEyeCheck && !p.EyeCheck.Checked {
		p.Approve.Disable()
		return
	}
	p.Approve.Enable()
}

// defaultAction is Enter on the review: approve where it is allowed, else the rejection.
func (p *ReviewPanel) defaultAction() {
	switch {
	case p.Rejecting != nil:
		p.Rejecting.submit()
	case p.Supervisor != nil:
	case p.Approve.Visible() && !p.Approve.Disabled():
		p.approve()
	case p.verdict == kiosk.VerdictNoMatch:
		p.startReject()
	}
}

// focusTarget is what takes the keyboard in the review: the eye check where it is asked
// (Space ticks it), the reason of a deactivation; else nothing, so that Enter reaches the
// shell and approves.
func (p *ReviewPanel) focusTarget() fyne.Focusable {
	switch {
	case p.Rejecting != nil:
		return p.Rejecting.Note
	case p.EyeCheck.Visible():
		return p.EyeCheck
	case p.Reason.Visible():
		return p.Reason
	}
	return nil
}

// show puts obj in the panel and gives the keyboard to what should have it.
func (p *ReviewPanel) show(obj fyne.CanvasObject) {
	p.root.Objects = []fyne.CanvasObject{obj}
	p.root.Refresh()
	p.s.focus(p.focusTarget())
}

func (p *ReviewPanel) approve() {
	if !p.supervised {
		p.doApprove(kiosk.Officer{})
		return
	}
	if p.s.sess.Officer().Role == kiosk.RoleSupervisor {
		p.doApprove(kiosk.Officer{}) // the approving officer is the supervisor
		return
	}
	p.Supervisor = newSupervisorScreen(p.s, func(sup kiosk.Officer) {
		p.Supervisor = nil
		p.show(p.decisionView())
		p.doApprove(sup)
	}, func() {
		p.Supervisor = nil
		p.show(p.decisionView())
	})
	var why fyne.CanvasObject = layout.NewSpacer()
	if p.verdict == kiosk.VerdictSupervisor { // what the supervisor is asked to look at
		l := wrapped(p.Verdict.Text)
		l.TextStyle, l.Importance, l.Alignment = fyne.TextStyle{Bold: true}, widget.WarningImportance, fyne.TextAlignCenter
		why = l
	}
	p.show(container.NewBorder(why, nil, nil, nil, p.Supervisor.view()))
}

func (p *ReviewPanel) doApprove(sup kiosk.Officer) {
	a := kiosk.Approval{EyeChecked: p.verdict == kiosk.VerdictEyeCheck && p.EyeCheck.Checked, Supervisor: sup}
	if p.v.Purpose() == kiosk.PurposeDeactivation {
		a.Reason = strings.TrimSpace(p.Reason.Text)
	}
	p.Approve.Disable()
	var rc app.Receipt
	p.s.async(func() error {
		var err error
		rc, err = p.v.Approve(context.Background(), a)
		return err
	}, func(err error) {
		p.enableApprove()
		if err != nil {
			p.Error.SetText(p.s.tx.Err(err))
			return
		}
		p.s.showReceipt(rc)
	})
}

func (p *ReviewPanel) startReject() {
	p.Rejecting = newRejectPanel(p.s, p.v, func() {
		p.Rejecting = nil
		p.show(p.decisionView())
	})
	p.show(p.Rejecting.view())
}

// typedRune and typedKey pass the keyboard to the supervisor's PIN pad while it is shown.
func (p *ReviewPanel) typedRune(r rune) {
	if p.Supervisor != nil {
		p.Supervisor.typedRune(r)
	}
}

func (p *ReviewPanel) typedKey(ev *fyne.KeyEvent) {
	if p.Supervisor != nil {
		p.Supervisor.typedKey(ev)
		return
	}
	if ev.Name == fyne.KeyReturn || ev.Name == fyne.KeyEnter {
		p.defaultAction()
	}
}

// photo shows img, or says there is none.
func (p *ReviewPanel) photo(img image.Image, captionKey string) fyne.CanvasObject {
	caption := widget.NewLabelWithStyle(p.s.tx.T(captionKey), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	var pic fyne.CanvasObject
	if img != nil {
		ci := canvas.NewImageFromImage(img)
		ci.FillMode = canvas.ImageFillContain
		pic = ci
	} else {
		pic = container.NewStack(canvas.NewRectangle(previewBackground),
			container.NewCenter(widget.NewLabel(p.s.tx.T("ui.review.no_photo"))))
	}
	return container.NewBorder(caption, nil, nil, nil, container.NewGridWrap(fyne.NewSize(300, 360), pic))
}

// referencePhoto decodes the resident's reference photo when the review has none decoded.
func (p *ReviewPanel) referencePhoto() image.Image {
	if p.r.Reference != nil {
		return p.r.Reference
	}
	if len(p.r.Resident.Photo) == 0 {
		return nil
	}
	img, _, err := image.Decode(bytes.NewReader(p.r.Resident.Photo))
	if err != nil {
		return nil // a damaged photo is shown as "no photo"; the officer still sees the live one
	}
	return img
}

func (p *ReviewPanel) decisionView() fyne.CanvasObject {
	tx := p.s.tx
	photos := container.NewHBox(p.photo(p.ref, "ui.review.reference"),
		p.photo(p.r.Live, "ui.review.live"))
	title, middle := tx.T("ui.review.title"), tx.T("ui.review.read_back")
	if p.v.Purpose() == kiosk.PurposeDeactivation {
		title, middle = tx.T("ui.review.title_deactivation"), tx.T("ui.review.reason")
	}
	facts := container.NewVBox(p.Name, p.Birth, p.Address, widget.NewSeparator(),
		widget.NewLabelWithStyle(middle, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		p.Contact, p.Reason, widget.NewSeparator(), p.Verdict, p.EyeCheck, p.s.reviewData(p.r.Resident), p.Error)
	row := container.NewHBox()
	if p.Approve.Visible() { // a face that did not match has nothing to approve
		row.Add(container.NewGridWrap(fyne.NewSize(260, 80), p.Approve))
	}
	row.Add(container.NewGridWrap(fyne.NewSize(200, 80), p.Reject))
	row.Add(touchSized(p.s.button("ui.visit.cancel", p.cancel)))
	buttons := container.NewCenter(row)
	body := container.NewBorder(nil, nil, photos, nil, container.NewVScroll(container.NewPadded(facts)))
	return container.NewBorder(heading(title), buttons, nil, nil, body)
}

func (p *ReviewPanel) view() fyne.CanvasObject { return p.root }
