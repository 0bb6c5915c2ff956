package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk/app"
)

// rejectReasons are the short list, in the order the officer reads them.
var rejectReasons = []struct {
	reason app.RejectReason
	key    string
}{
	{app.RejectFaceMismatch, "ui.reject.face_mismatch"},
	{app.RejectNotPresent, "ui.reject.not_present"},
	{app.RejectDocument, "ui.reject.document"},
	{app.RejectCitizenAsked, "ui.reject.citizen_asked"},
	{app.RejectOther, "ui.reject.other"},
}

// RejectPanel asks why the visit is rejected; the core requires the free text for "other".
type RejectPanel struct {
	s       *Shell
	v       app.Visit
	Reasons *widget.RadioGroup
	Note    *keyEntry
	Submit  *widget.Button
	Back    *widget.Button
	Error   *widget.Label
	labels  map[string]app.RejectReason
}

func newRejectPanel(s *Shell, v app.Visit, back func()) *RejectPanel {
	p := &RejectPanel{s: s, v: v, Note: newKeyEntry(s), Error: errLabel(), labels: map[string]app.RejectReason{}}
	var options []string
	for _, r := range rejectReasons {
		label := s.tx.T(r.key)
		options = append(options, label)
		p.labels[label] = r.reason
	}
	p.Reasons = widget.NewRadioGroup(options, func(string) { s.touch(); p.Error.SetText("") })
	p.Note.MultiLine = true
	p.Note.SetPlaceHolder(s.tx.T("ui.reject.note"))
	p.Submit = s.bigButton("ui.reject.submit", p.submit)
	p.Submit.Importance = widget.DangerImportance
	p.Back = s.button("ui.common.back", back)
	return p
}

// Choose selects a reason by its code (tests and keyboard use).
func (p *RejectPanel) Choose(r app.RejectReason) {
	for label, code := range p.labels {
		if code == r {
			p.Reasons.SetSelected(label)
		}
	}
}

func (p *RejectPanel) submit() {
	reason := p.labels[p.Reasons.Selected]
	note := p.Note.Text
	p.s.async(func() error { return p.v.Reject(context.Background(), reason, note) }, func(err error) {
		if err != nil {
			p.Error.SetText(p.s.tx.Err(err))
			return
		}
		p.s.notice = p.s.tx.T("ui.reject.done")
		p.s.showHome()
	})
}

func (p *RejectPanel) view() fyne.CanvasObject {
	return container.NewCenter(container.NewGridWrap(fyne.NewSize(640, 520), container.NewVBox(
		heading(p.s.tx.T("ui.reject.title")), p.Reasons,
		container.NewGridWrap(fyne.NewSize(620, 120), p.Note), p.Error,
		container.NewHBox(touchSized(p.Submit), touchSized(p.Back)))))
}
