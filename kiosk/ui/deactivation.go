package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/camera"
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
	// CamState is the camera's state in words, as on the activation screen, with a retry:
	// the face step needs the camera, and the officer should know before starting it.
	CamState *widget.Label
	CamRetry *widget.Button
}

func newDeactivationScreen(s *Shell, v app.Visit) *DeactivationScreen {
	p := &DeactivationScreen{visitPage: newVisitPage(s, v), NIK: newKeyEntry(s), Validity: wrapped("")}
	p.NIK.SetPlaceHolder(s.tx.T("ui.deactivation.nik"))
	p.NIK.OnChanged = p.check
	p.NIK.OnSubmitted = func(string) { p.submit() }
	p.Next = s.bigButton("ui.deactivation.next", p.submit)
	p.Next.Disable()
	p.supervised = s.k.Settings().SupervisorForDeactivation
	p.CamState = wrapped("")
	p.CamRetry = s.button("ui.status.camera_retry", func() { s.retryCamera(p.refresh) })
	p.Hint.SetText(s.tx.T("ui.deactivation.type_nik"))
	p.root.Objects = []fyne.CanvasObject{p.nikView()}
	p.refresh()
	return p
}

// refresh follows the camera's state: on the NIK step as a line with a retry, over the
// picture once the face step shows it.
func (p *DeactivationScreen) refresh() {
	c := p.s.k.Status().Camera
	words := ""
	if c.State != camera.StateReady {
		words = p.s.cameraText(c)
	}
	p.Preview.Status.SetText(words)
	p.CamState.SetText(words)
	p.CamState.Importance = widget.WarningImportance
	if words != "" && cameraRetryable(c) {
		p.CamRetry.Show()
	} else {
		p.CamRetry.Hide()
	}
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
		p.NIK.Disable()
		p.root.Objects = []fyne.CanvasObject{p.cameraView(p.s.tx.T("ui.deactivation.title"), nil)}
		p.root.Refresh()
		p.s.focus(nil) // the NIK field is gone: keys go to the shell again
		p.findResident()
	})
}

func (p *DeactivationScreen) nikView() fyne.CanvasObject {
	return container.NewCenter(container.NewGridWrap(fyne.NewSize(640, 360), container.NewVBox(
		heading(p.s.tx.T("ui.deactivation.title")),
		wrapped(p.s.tx.T("ui.deactivation.intro")),
		p.NIK, p.Validity,
		container.NewHBox(touchSized(p.Next), touchSized(p.Cancel)),
		p.CamState, container.NewHBox(touchSized(p.CamRetry)))))
}

func (p *DeactivationScreen) view() fyne.CanvasObject { return p.page() }

func (p *DeactivationScreen) focusTarget() fyne.Focusable {
	if p.Review != nil { // the visit reached its review while the screen was built
		return p.Review.focusTarget()
	}
	return p.NIK
}
