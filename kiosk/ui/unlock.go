package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// UnlockScreen asks for the kiosk's unlock secret at start-up.
type UnlockScreen struct {
	s      *Shell
	Secret *keyEntry
	Unlock *widget.Button
	Error  *widget.Label
	Intro  *widget.Label
}

func newUnlockScreen(s *Shell) *UnlockScreen {
	p := &UnlockScreen{s: s, Secret: newPasswordKeyEntry(s), Error: errLabel()}
	p.Intro = wrapped(s.tx.T("ui.unlock.intro"))
	p.Secret.SetPlaceHolder(s.tx.T("ui.unlock.secret"))
	p.Secret.OnSubmitted = func(string) { p.submit() }
	p.Unlock = s.bigButton("ui.unlock.button", p.submit)
	return p
}

func (p *UnlockScreen) submit() {
	secret := []byte(p.Secret.Text)
	if len(secret) == 0 {
		return
	}
	p.Unlock.Disable()
	p.Error.SetText(p.s.tx.T("ui.unlock.working"))
	p.s.async(func() error {
		return p.s.k.Unlock(context.Background(), secret)
	}, func(err error) {
		p.Unlock.Enable()
		if err != nil {
			p.Error.SetText(p.s.tx.Err(err))
			p.Secret.SetText("")
			return
		}
		p.s.showLogin()
	})
}

func (p *UnlockScreen) view() fyne.CanvasObject {
	form := container.NewVBox(
		heading(p.s.tx.T("ui.unlock.title")),
		p.Intro,
		p.Secret,
		touchSized(p.Unlock),
		p.Error,
	)
	return container.NewCenter(container.NewGridWrap(fyne.NewSize(520, 360), form))
}

func (p *UnlockScreen) stop() {}

func (p *UnlockScreen) focusTarget() fyne.Focusable { return p.Secret }
