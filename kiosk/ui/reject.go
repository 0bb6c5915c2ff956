package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
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
// Each reason is a row a finger hits (at least touchRow high); on the keyboard the note has
// the focus, ↑/↓ choose the reason and Enter rejects.
type RejectPanel struct {
	s       *Shell
	v       app.Visit
	Reasons []*widget.Button // in the order of rejectReasons
	Note    *keyEntry
	Submit  *widget.Button
	Back    *widget.Button
	Error   *widget.Label
	chosen  int // index into rejectReasons; -1 before a choice
}

func newRejectPanel(s *Shell, v app.Visit, back func()) *RejectPanel {
	p := &RejectPanel{s: s, v: v, Note: newKeyEntry(s), Error: errLabel(), chosen: -1}
	for i, r := range rejectReasons {
		b := widget.NewButtonWithIcon(s.tx.T(r.key), theme.RadioButtonIcon(), func() {
			s.touch()
			p.choose(i)
		})
		b.Alignment = widget.ButtonAlignLeading
		p.Reasons = append(p.Reasons, b)
	}
	p.Note.SetPlaceHolder(s.tx.T("ui.reject.note"))
	p.Note.OnSubmitted = func(string) { p.submit() }
	p.Note.keys = func(ev *fyne.KeyEvent) bool {
		switch ev.Name {
		case fyne.KeyUp:
			p.choose(max(p.chosen-1, 0))
		case fyne.KeyDown:
			p.choose(min(p.chosen+1, len(p.Reasons)-1))
		default:
			return false
		}
		return true
	}
	p.Submit = s.bigButton("ui.reject.submit", p.submit)
	p.Submit.Importance = widget.DangerImportance
	p.Back = s.button("ui.common.back", back)
	return p
}

// Choose selects a reason by its code (tests and keyboard use).
func (p *RejectPanel) Choose(r app.RejectReason) {
	for i, x := range rejectReasons {
		if x.reason == r {
			p.choose(i)
		}
	}
}

func (p *RejectPanel) choose(i int) {
	p.chosen = i
	p.Error.SetText("")
	for j, b := range p.Reasons {
		b.Importance, b.Icon = widget.MediumImportance, theme.RadioButtonIcon()
		if j == i {
			b.Importance, b.Icon = widget.HighImportance, theme.RadioButtonCheckedIcon()
		}
		b.Refresh()
	}
}

// Selected is the reason chosen, or "" before a choice.
func (p *RejectPanel) Selected() app.RejectReason {
	if p.chosen < 0 {
		return ""
	}
	return rejectReasons[p.chosen].reason
}

func (p *RejectPanel) submit() {
	reason := p.Selected()
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
	rows := make([]fyne.CanvasObject, 0, len(p.Reasons))
	for _, b := range p.Reasons {
		rows = append(rows, container.New(atLeast{fyne.NewSize(620, touchRow)}, b))
	}
	return container.NewCenter(container.NewVBox(
		heading(p.s.tx.T("ui.reject.title")), container.NewVBox(rows...),
		wrapped(p.s.tx.T("ui.reject.keys")),
		container.New(atLeast{fyne.NewSize(620, 0)}, p.Note), p.Error,
		container.NewHBox(touchSized(p.Submit), touchSized(p.Back))))
}
