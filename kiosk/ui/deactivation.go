package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
)

// DeactivationScreen is a lost-phone report: the NIK typed (checked as it is typed, with the
// reason it is invalid) or scanned by a hand scanner, the face check, and a supervisor's
// confirmation where the kiosk is configured to require one.
type DeactivationScreen struct {
	*visitPage
	NIK      *keyEntry
	Validity *widget.Label
	Next     *widget.Button
	// Supervisor is the confirmation step while it is shown.
	Supervisor *SupervisorScreen
}

func newDeactivationScreen(s *Shell, v app.Visit) *DeactivationScreen {
	p := &DeactivationScreen{visitPage: newVisitPage(s, v), NIK: newKeyEntry(s), Validity: wrapped("")}
	p.NIK.SetPlaceHolder(s.tx.T("ui.deactivation.nik"))
	p.NIK.OnChanged = p.check
	p.NIK.OnSubmitted = func(string) { p.submit() }
	p.Next = s.bigButton("ui.deactivation.next", p.submit)
	p.Next.Disable()
	p.afterReview = p.addSupervisorCheck
	p.Hint.SetText(s.tx.T("ui.deactivation.type_nik"))
	p.root.Objects = []fyne.CanvasObject{p.nikView()}
	return p
}

// check validates the NIK as it is typed; the reason comes from the core's *kiosk.Error.
func (p *DeactivationScreen) check(text string) {
	if text == "" {
		p.Validity.SetText("")
		p.Next.Disable()
		return
	}
	if _, err := kiosk.ParseNIK(text); err != nil {
		p.Validity.Importance = widget.DangerImportance
		p.Validity.SetText(p.s.tx.Err(err))
		p.Next.Disable()
		return
	}
	p.Validity.Importance = widget.SuccessImportance
	p.Validity.SetText(p.s.tx.T("ui.deactivation.nik_ok"))
	p.Next.Enable()
}

func (p *DeactivationScreen) submit() {
	text := p.NIK.Text
	p.s.async(func() error { return p.v.EnterNIK(p.ctx, text) }, func(err error) {
		if err != nil {
			p.Validity.Importance = widget.DangerImportance
			p.Validity.SetText(p.s.tx.Err(err))
			return
		}
		p.root.Objects = []fyne.CanvasObject{p.cameraView(p.s.tx.T("ui.deactivation.title"), nil)}
		p.root.Refresh()
		p.findResident()
	})
}

// addSupervisorCheck puts the supervisor's confirmation before approval where configured.
func (p *DeactivationScreen) addSupervisorCheck() {
	if !p.s.k.Settings().SupervisorForDeactivation {
		return
	}
	p.Review.beforeApprove = func(approve func()) {
		if p.s.sess.Officer().Role == kiosk.RoleSupervisor {
			approve()
			return
		}
		sup := newSupervisorScreen(p.s, func(kiosk.Officer) {
			p.root.Objects = []fyne.CanvasObject{p.Review.view()}
			p.root.Refresh()
			approve()
		}, func() {
			p.root.Objects = []fyne.CanvasObject{p.Review.view()}
			p.root.Refresh()
		})
		p.root.Objects = []fyne.CanvasObject{sup.view()}
		p.root.Refresh()
		p.Supervisor = sup
	}
}

func (p *DeactivationScreen) nikView() fyne.CanvasObject {
	return container.NewCenter(container.NewGridWrap(fyne.NewSize(640, 360), container.NewVBox(
		heading(p.s.tx.T("ui.deactivation.title")),
		wrapped(p.s.tx.T("ui.deactivation.intro")),
		p.NIK, p.Validity,
		container.NewHBox(touchSized(p.Next), touchSized(p.Cancel)))))
}

func (p *DeactivationScreen) view() fyne.CanvasObject { return p.root }

func (p *DeactivationScreen) focusTarget() fyne.Focusable { return p.NIK }
