package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
)

// visitPage is what activation and deactivation share: the visit, the camera preview with
// its overlays, the large hint, and the face step leading to the review.
type visitPage struct {
	s       *Shell
	v       app.Visit
	Preview *Preview
	Hint    *widget.Label
	Error   *widget.Label
	Retry   *widget.Button
	Cancel  *widget.Button
	Review  *ReviewPanel
	root    *fyne.Container // the step shown: camera or review
	ctx     context.Context
	end     context.CancelFunc
	retry   func()
	// Steps shows where the visit is; supervised makes approval go through a supervisor
	// (the kiosk's setting for deactivations).
	Steps      *stepBar
	supervised bool
}

func newVisitPage(s *Shell, v app.Visit) *visitPage {
	ctx, end := context.WithCancel(context.Background())
	first := "ui.steps.scan"
	if v.Purpose() == kiosk.PurposeDeactivation {
		first = "ui.steps.nik"
	}
	p := &visitPage{s: s, v: v, Preview: newPreview(), Hint: heading(""), Error: errLabel(),
		root: container.NewStack(), ctx: ctx, end: end,
		Steps: newStepBar(s.tx, first, "ui.steps.face", "ui.steps.review", "ui.steps.done")}
	p.Cancel = s.button("ui.visit.cancel", p.back)
	p.Retry = s.button("ui.visit.retry", func() {
		if p.retry != nil {
			p.retry()
		}
	})
	p.Retry.Hide()
	p.startPreview()
	return p
}

func (p *visitPage) startPreview() {
	frames, err := p.s.k.Preview(p.ctx)
	if err != nil {
		p.Preview.Status.SetText(p.s.tx.T("ui.visit.no_camera", p.s.tx.Err(err)))
		return
	}
	p.s.goAsync(func() { p.Preview.run(p.ctx, frames) })
}

// fail shows a refusal with a retry of step.
func (p *visitPage) fail(err error, step func()) {
	p.Error.SetText(p.s.tx.Err(err))
	p.retry = step
	if step != nil {
		p.Retry.Show()
	} else {
		p.Retry.Hide()
	}
}

func (p *visitPage) clearError() {
	p.Error.SetText("")
	p.Retry.Hide()
}

// findResident looks the citizen up, then runs the face step.
func (p *visitPage) findResident() {
	p.clearError()
	p.Hint.SetText(p.s.tx.T("ui.visit.finding"))
	p.s.async(func() error { return p.v.FindResident(p.ctx) }, func(err error) {
		if err != nil {
			if !quiet(err) {
				p.fail(err, nil) // the resident data will not change during the visit
				p.Hint.SetText(p.s.tx.T("ui.visit.not_found_next"))
			}
			return
		}
		p.captureFace()
	})
}

// captureFace runs the camera face step with the box and the hint shown live.
func (p *visitPage) captureFace() {
	p.clearError()
	p.Steps.set(stepFace)
	p.Preview.Mirror = true // the citizen watches themselves turn as in a mirror
	p.Preview.SetOutline(nil)
	p.Hint.SetText(p.s.tx.T("ui.face.look"))
	progress := func(fp app.FaceProgress) {
		fyne.Do(func() {
			p.Preview.SetFace(fp.Box)
			switch {
			case fp.Loading:
				p.Hint.SetText(p.s.tx.T("ui.face.loading"))
			case fp.Prompt.ID != "": // the liveness prompt carries its own words
				p.Hint.SetText(fp.Prompt.In(p.s.tx.Lang()))
				p.Preview.SetTurn(turnOf(fp.Hint))
			case fp.Hint != "":
				p.Hint.SetText(p.s.tx.Hint(fp.Hint))
			}
		})
	}
	p.s.async(func() error { return p.v.CaptureFace(p.ctx, progress) }, func(err error) {
		if err != nil {
			if !quiet(err) {
				p.fail(err, p.captureFace)
			}
			return
		}
		p.showReview()
	})
}

func (p *visitPage) showReview() {
	p.Steps.set(stepReview)
	p.Preview.SetTurn(turnNone)
	p.Review = newReviewPanel(p.s, p.v, p.back, p.supervised)
	p.root.Objects = []fyne.CanvasObject{p.Review.view()}
	p.root.Refresh()
	p.s.focus(p.Review.focusTarget())
}

// typedRune and typedKey give the keyboard to the review once it is shown (the supervisor's
// PIN pad, Enter to approve).
func (p *visitPage) typedRune(r rune) {
	if p.Review != nil {
		p.Review.typedRune(r)
	}
}

func (p *visitPage) typedKey(ev *fyne.KeyEvent) {
	if p.Review != nil {
		p.Review.typedKey(ev)
	}
}

// closeStep closes the review's PIN pad or reject reasons, back to the decision.
func (p *visitPage) closeStep() bool {
	r := p.Review
	switch {
	case r == nil:
		return false
	case r.Supervisor != nil:
		r.Supervisor.cancel()
	case r.Rejecting != nil:
		r.Rejecting.Back.OnTapped()
	default:
		return false
	}
	return true
}

// page is the visit's step bar above the step shown.
func (p *visitPage) page() fyne.CanvasObject {
	return container.NewBorder(container.NewVBox(p.Steps.view(), widget.NewSeparator()), nil, nil, nil, p.root)
}

// back ends the visit as abandoned (the citizen left) and goes home.
func (p *visitPage) back() {
	p.stop()
	p.s.showHome()
}

// stop ends the camera work and abandons a visit that did not finish, so that the idle
// lock or an officer switch never leaves a visit half-done.
func (p *visitPage) stop() {
	p.end()
	switch p.v.State() {
	case kiosk.StateQueued, kiosk.StateRejected, kiosk.StateAbandoned:
		return
	}
	if err := p.v.Abandon(context.Background()); err != nil {
		p.Error.SetText(p.s.tx.Err(err))
	}
}

// cameraView is the camera step's layout: the preview large, the hint under it.
func (p *visitPage) cameraView(title string, side fyne.CanvasObject) fyne.CanvasObject {
	bottom := container.NewVBox(p.Hint, p.Error,
		container.NewCenter(container.NewHBox(touchSized(p.Retry), touchSized(p.Cancel))))
	main := container.NewBorder(heading(title), bottom, nil, nil, p.Preview.view())
	if side == nil {
		return main
	}
	return container.NewBorder(nil, nil, nil, container.NewPadded(side), main)
}
