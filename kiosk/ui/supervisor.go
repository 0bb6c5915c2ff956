package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk"
)

// SupervisorScreen asks a supervisor for their PIN before a supervisor-only action.
type SupervisorScreen struct {
	s           *Shell
	Supervisors *widget.Select
	Pad         *PINPad
	Cancel      *widget.Button
	Error       *widget.Label
	list        []kiosk.Officer
	action      func(kiosk.Officer)
	cancel      func()
}

func newSupervisorScreen(s *Shell, action func(kiosk.Officer), cancel func()) *SupervisorScreen {
	p := &SupervisorScreen{s: s, Pad: newPINPad(s, "ui.supervisor.confirm"), Error: errLabel(),
		action: action, cancel: cancel}
	officers, err := s.k.Officers(context.Background())
	if err != nil {
		p.Error.SetText(s.tx.Err(err))
	}
	var names []string
	for _, o := range officers {
		if o.Role == kiosk.RoleSupervisor && !o.Disabled {
			p.list = append(p.list, o)
			names = append(names, o.Name)
		}
	}
	p.Supervisors = widget.NewSelect(names, func(string) { p.Pad.Reset() })
	if len(names) > 0 {
		p.Supervisors.SetSelectedIndex(0)
	}
	p.Cancel = s.button("ui.common.cancel", cancel)
	p.Pad.OnOK = p.submit
	return p
}

func (p *SupervisorScreen) submit(pin string) {
	i := p.Supervisors.SelectedIndex()
	if i < 0 || i >= len(p.list) {
		p.Error.SetText(p.s.tx.T("ui.supervisor.none"))
		return
	}
	id := p.list[i].ID
	var sup kiosk.Officer
	p.s.async(func() error {
		var err error
		sup, err = p.s.sess.ConfirmSupervisor(context.Background(), id, pin)
		return err
	}, func(err error) {
		p.Pad.Reset()
		if err != nil {
			p.Error.SetText(p.s.tx.Err(err))
			return
		}
		p.action(sup)
	})
}

func (p *SupervisorScreen) back()                      { p.cancel() }
func (p *SupervisorScreen) typedRune(r rune)           { p.Pad.typedRune(r) }
func (p *SupervisorScreen) typedKey(ev *fyne.KeyEvent) { p.Pad.typedKey(ev) }

func (p *SupervisorScreen) view() fyne.CanvasObject {
	return container.NewCenter(container.NewVBox(
		heading(p.s.tx.T("ui.supervisor.title")),
		wrapped(p.s.tx.T("ui.supervisor.intro")),
		p.Supervisors, p.Pad.view(), p.Error, touchSized(p.Cancel)))
}

func (p *SupervisorScreen) stop() {}
