package ui

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // reference photos in the snapshot are JPEG
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
)

// ReviewPanel is what the officer reads back and compares before deciding.
type ReviewPanel struct {
	s         *Shell
	v         app.Visit
	r         app.Review
	Name      *widget.Label
	Birth     *widget.Label
	Address   *widget.Label
	Contact   *widget.Label // masked e-mail and phone, to read back (activation)
	Face      *widget.Label
	Others    *widget.Label // 1:N hits on other NIKs
	EyeCheck  *widget.Check
	Reason    *keyEntry // deactivation reason
	Approve   *widget.Button
	Reject    *widget.Button
	Error     *widget.Label
	Rejecting *RejectPanel
	root      *fyne.Container
	cancel    func()
	// beforeApprove, when set, runs before Approve (the deactivation's supervisor check).
	beforeApprove func(approve func())
}

func newReviewPanel(s *Shell, v app.Visit, cancel func()) *ReviewPanel {
	r := v.Review()
	tx := s.tx
	p := &ReviewPanel{s: s, v: v, r: r, cancel: cancel, Error: errLabel(), root: container.NewStack()}
	res := r.Resident
	p.Name = heading(res.Name)
	p.Birth = wrapped(tx.T("ui.review.birth", res.BirthPlace, res.BirthDate.Format("02-01-2006"), string(res.NIK)))
	p.Address = wrapped(tx.T("ui.review.address", res.Address, res.Kecamatan))
	p.Contact = wrapped(tx.T("ui.review.contact", orDash(r.Token.MaskedEmail), orDash(r.Token.MaskedPhone)))
	p.Face = wrapped(s.faceWords(r.Face))
	p.Face.TextStyle = fyne.TextStyle{Bold: true}
	switch r.Face.Band {
	case kiosk.BandMatch:
		p.Face.Importance = widget.SuccessImportance
	case kiosk.BandUncertain:
		p.Face.Importance = widget.WarningImportance
	default:
		p.Face.Importance = widget.DangerImportance
	}
	p.Others = wrapped("")
	p.Others.Importance = widget.DangerImportance
	if len(r.Face.OtherNIKs) > 0 {
		niks := make([]string, len(r.Face.OtherNIKs))
		for i, n := range r.Face.OtherNIKs {
			niks[i] = string(n)
		}
		p.Others.SetText(tx.T("ui.review.other_niks", strings.Join(niks, ", ")))
	}
	p.EyeCheck = widget.NewCheck(tx.T("ui.review.eye_check"), func(bool) { s.touch() })
	if !kiosk.NeedsEyeCheck(r.Face) {
		p.EyeCheck.Hide()
	}
	p.Reason = newKeyEntry(s)
	p.Reason.SetText(tx.T("ui.deactivation.default_reason"))
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
	p.Reject = s.button("ui.review.reject", p.startReject)
	p.Reject.Importance = widget.DangerImportance
	p.root.Objects = []fyne.CanvasObject{p.decisionView()}
	return p
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// faceWords is the face result in plain words: the band first, the score after.
func (s *Shell) faceWords(f kiosk.FaceResult) string {
	var band string
	switch f.Band {
	case kiosk.BandMatch:
		band = s.tx.T("ui.band.match")
	case kiosk.BandUncertain:
		band = s.tx.T("ui.band.uncertain")
	case kiosk.BandNoMatch:
		band = s.tx.T("ui.band.no_match")
	default:
		band = s.tx.T("ui.band.none")
	}
	out := s.tx.T("ui.review.face", band, fmt.Sprintf("%.2f", f.Score))
	if f.Capped || f.Guarded {
		out += " " + s.tx.T("ui.review.face_capped")
	}
	return out
}

func (p *ReviewPanel) approve() {
	if p.beforeApprove != nil {
		p.beforeApprove(p.doApprove)
		return
	}
	p.doApprove()
}

func (p *ReviewPanel) doApprove() {
	a := kiosk.Approval{EyeChecked: p.EyeCheck.Checked}
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
		p.Approve.Enable()
		if err != nil {
			p.Error.SetText(p.s.tx.Err(err))
			return
		}
		p.s.showReceipt(rc)
	})
}

func (p *ReviewPanel) startReject() {
	p.Rejecting = newRejectPanel(p.s, p.v, func() {
		p.root.Objects = []fyne.CanvasObject{p.decisionView()}
		p.root.Refresh()
	})
	p.root.Objects = []fyne.CanvasObject{p.Rejecting.view()}
	p.root.Refresh()
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
	photos := container.NewHBox(p.photo(p.referencePhoto(), "ui.review.reference"),
		p.photo(p.r.Live, "ui.review.live"))
	title, middle := tx.T("ui.review.title"), tx.T("ui.review.read_back")
	if p.v.Purpose() == kiosk.PurposeDeactivation {
		title, middle = tx.T("ui.review.title_deactivation"), tx.T("ui.review.reason")
	}
	facts := container.NewVBox(p.Name, p.Birth, p.Address, widget.NewSeparator(),
		widget.NewLabelWithStyle(middle, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		p.Contact, p.Reason, widget.NewSeparator(), p.Face, p.Others, p.EyeCheck, p.Error)
	buttons := container.NewCenter(container.NewHBox(
		container.NewGridWrap(fyne.NewSize(260, 80), p.Approve),
		container.NewGridWrap(fyne.NewSize(200, 80), p.Reject),
		touchSized(p.s.button("ui.visit.cancel", p.cancel))))
	body := container.NewBorder(nil, nil, photos, nil, container.NewVScroll(container.NewPadded(facts)))
	return container.NewBorder(heading(title), buttons, nil, nil, body)
}

func (p *ReviewPanel) view() fyne.CanvasObject { return p.root }
