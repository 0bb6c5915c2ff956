package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
)

// LoginScreen is the officer list and the PIN pad.
type LoginScreen struct {
	s        *Shell
	Officers []*widget.Button
	Pad      *PINPad
	Prompt   *widget.Label
	Error    *widget.Label
	list     []kiosk.Officer
	chosen   int
}

func newLoginScreen(s *Shell) *LoginScreen {
	p := &LoginScreen{s: s, Pad: newPINPad(s, "ui.login.button"), Error: errLabel(), chosen: -1}
	p.Prompt = wrapped(s.tx.T("ui.login.choose"))
	list, err := s.k.Officers(context.Background())
	if err != nil {
		p.Error.SetText(s.tx.Err(err))
	}
	for i, o := range list {
		if o.Disabled {
			continue
		}
		i := i
		b := s.button("ui.login.officer", func() { p.Choose(i) })
		b.SetText(s.tx.T("ui.login.officer", o.Name, s.roleName(o.Role)))
		p.Officers = append(p.Officers, b)
		p.list = append(p.list, o)
	}
	if len(p.list) == 1 {
		p.Choose(0)
	}
	p.Pad.OnOK = p.submit
	return p
}

// Choose selects the officer logging in.
func (p *LoginScreen) Choose(i int) {
	if i < 0 || i >= len(p.list) {
		return
	}
	p.chosen = i
	for j, b := range p.Officers {
		b.Importance = widget.MediumImportance
		if j == i {
			b.Importance = widget.HighImportance
		}
		b.Refresh()
	}
	p.Prompt.SetText(p.s.tx.T("ui.login.pin_for", p.list[i].Name))
	p.Pad.Reset()
	p.Error.SetText("")
}

func (p *LoginScreen) submit(pin string) {
	if p.chosen < 0 {
		p.Error.SetText(p.s.tx.T("ui.login.choose"))
		return
	}
	id := p.list[p.chosen].ID
	p.Pad.OK.Disable()
	var sess app.Session
	p.s.async(func() error {
		var err error
		sess, err = p.s.k.Login(context.Background(), id, pin)
		return err
	}, func(err error) {
		p.Pad.OK.Enable()
		p.Pad.Reset()
		if err != nil {
			p.Error.SetText(p.s.tx.Err(err))
			return
		}
		p.s.sess = sess
		p.s.showHome()
	})
}

func (p *LoginScreen) typedRune(r rune)           { p.Pad.typedRune(r) }
func (p *LoginScreen) typedKey(ev *fyne.KeyEvent) { p.Pad.typedKey(ev) }

func (p *LoginScreen) view() fyne.CanvasObject {
	officers := make([]fyne.CanvasObject, 0, len(p.Officers))
	for _, b := range p.Officers {
		officers = append(officers, container.NewGridWrap(fyne.NewSize(420, 64), b))
	}
	list := container.NewVScroll(container.NewVBox(officers...))
	list.SetMinSize(fyne.NewSize(430, 420))
	left := container.NewVBox(heading(p.s.tx.T("ui.login.title")), list)
	right := container.NewVBox(p.Prompt, p.Pad.view(), p.Error)
	return container.NewGridWithColumns(2, container.NewCenter(left), container.NewCenter(right))
}

func (p *LoginScreen) stop() {}
