package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk/app"
)

// ActivationScreen is a citizen's activation: scan the QR on their phone (camera, or a hand
// scanner typing into Token), look them up, check the face, review and decide.
type ActivationScreen struct {
	*visitPage
	Token *keyEntry
	Use   *widget.Button
	// Without a usable camera the hand scanner comes first and CamState says why, in place
	// of the preview; CamRetry opens the camera again.
	NoCamera bool
	CamState *widget.Label
	CamRetry *widget.Button
	endScan  context.CancelFunc
}

func newActivationScreen(s *Shell, v app.Visit) *ActivationScreen {
	p := &ActivationScreen{visitPage: newVisitPage(s, v), Token: newKeyEntry(s)}
	p.Token.takesToken = true
	p.Token.SetPlaceHolder(s.tx.T("ui.activation.token"))
	p.Token.OnSubmitted = func(string) { p.enterToken() }
	p.Use = s.button("ui.activation.use_token", p.enterToken)
	p.CamState = heading("")
	p.CamRetry = s.button("ui.status.camera_retry", func() { s.retryCamera(p.refresh) })
	title := s.tx.T("ui.activation.title")
	if c := s.k.Status().Camera; cameraUsable(c) {
		p.root.Objects = []fyne.CanvasObject{p.cameraView(title, p.scannerPanel())}
	} else {
		p.NoCamera = true
		p.root.Objects = []fyne.CanvasObject{p.noCameraView(title)}
		p.refresh()
	}
	p.scan()
	return p
}

// noCameraView puts the hand scanner first and the camera's state in words below it.
func (p *ActivationScreen) noCameraView(title string) fyne.CanvasObject {
	bottom := container.NewVBox(p.Error,
		container.NewCenter(container.NewHBox(touchSized(p.Retry), touchSized(p.Cancel))))
	body := container.NewVBox(p.Hint, container.NewCenter(p.scannerPanel()), p.CamState,
		container.NewCenter(touchSized(p.CamRetry)))
	return container.NewBorder(heading(title), bottom, nil, nil, body)
}

// refresh follows the camera's state: over the picture when the camera fails mid-visit, or
// on the state line while the hand scanner stands in for it (the picture is not brought back
// mid-visit; the scan keeps watching the camera regardless).
func (p *ActivationScreen) refresh() {
	c := p.s.k.Status().Camera
	if !p.NoCamera {
		if c.State == camera.StateReady {
			p.Preview.Status.SetText("")
		} else {
			p.Preview.Status.SetText(p.s.cameraText(c))
		}
		return
	}
	p.CamState.SetText(p.s.cameraText(c))
	if cameraRetryable(c) {
		p.CamRetry.Show()
	} else {
		p.CamRetry.Hide()
	}
}

// focus puts the cursor in the token field when the hand scanner is the way in.
func (p *ActivationScreen) scannerPanel() fyne.CanvasObject {
	return container.NewGridWrap(fyne.NewSize(300, 200), container.NewVBox(
		widget.NewLabelWithStyle(p.s.tx.T("ui.activation.scanner"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapped(p.s.tx.T("ui.activation.scanner_hint")), p.Token, p.Use))
}

// scan watches the camera for the citizen's QR, drawing each candidate's outline.
func (p *ActivationScreen) scan() {
	p.clearError()
	if p.NoCamera {
		p.Hint.SetText(p.s.tx.T("ui.activation.scan_by_hand"))
	} else {
		p.Hint.SetText(p.s.tx.T("ui.activation.show_qr"))
	}
	progress := func(sp app.ScanProgress) {
		fyne.Do(func() {
			p.Preview.SetOutline(sp.Outline)
			if sp.Hint != "" {
				p.Hint.SetText(p.s.tx.Hint(sp.Hint))
			}
		})
	}
	ctx, end := context.WithCancel(p.ctx)
	p.endScan = end
	p.s.async(func() error { return p.v.ScanQR(ctx, progress) }, func(err error) {
		if err != nil {
			if !quiet(err) {
				p.fail(err, p.scan)
			}
			return
		}
		p.tokenRead()
	})
}

// enterToken takes a token typed by a hand scanner.
func (p *ActivationScreen) enterToken() {
	text := p.Token.Text
	if text == "" {
		return
	}
	if p.endScan != nil {
		p.endScan() // the hand scanner was quicker than the camera
	}
	p.s.async(func() error { return p.v.EnterToken(p.ctx, text) }, func(err error) {
		p.Token.SetText("")
		if err != nil {
			p.fail(err, p.scan)
			return
		}
		p.tokenRead()
	})
}

func (p *ActivationScreen) tokenRead() {
	p.Token.Disable()
	p.Use.Disable()
	p.findResident()
}

func (p *ActivationScreen) view() fyne.CanvasObject { return p.page() }

func (p *ActivationScreen) focusTarget() fyne.Focusable {
	if p.Review != nil { // the visit reached its review while the screen was built
		return p.Review.focusTarget()
	}
	return p.Token
}
