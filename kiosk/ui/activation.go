package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk/app"
)

// ActivationScreen is a citizen's activation: scan the QR on their phone (camera, or a hand
// scanner typing into Token), look them up, check the face, review and decide.
type ActivationScreen struct {
	*visitPage
	Token   *keyEntry
	Use     *widget.Button
	endScan context.CancelFunc
}

func newActivationScreen(s *Shell, v app.Visit) *ActivationScreen {
	p := &ActivationScreen{visitPage: newVisitPage(s, v), Token: newKeyEntry(s)}
	p.Token.SetPlaceHolder(s.tx.T("ui.activation.token"))
	p.Token.OnSubmitted = func(string) { p.enterToken() }
	p.Use = s.button("ui.activation.use_token", p.enterToken)
	p.root.Objects = []fyne.CanvasObject{p.cameraView(s.tx.T("ui.activation.title"), p.scannerPanel())}
	p.scan()
	return p
}

func (p *ActivationScreen) scannerPanel() fyne.CanvasObject {
	return container.NewGridWrap(fyne.NewSize(300, 200), container.NewVBox(
		widget.NewLabelWithStyle(p.s.tx.T("ui.activation.scanner"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapped(p.s.tx.T("ui.activation.scanner_hint")), p.Token, p.Use))
}

// scan watches the camera for the citizen's QR, drawing each candidate's outline.
func (p *ActivationScreen) scan() {
	p.clearError()
	p.Hint.SetText(p.s.tx.T("ui.activation.show_qr"))
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

func (p *ActivationScreen) view() fyne.CanvasObject { return p.root }

func (p *ActivationScreen) focusTarget() fyne.Focusable { return p.Token }
