package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk/demo"
)

// DemoWorld is the demo's citizen side as the demo panel drives it: the citizen registers
// in the IKD app (their phone then shows the QR to the camera), the registry's e-mail lands
// in the demo mailbox, and the citizen confirms the code.
type DemoWorld interface {
	// Register registers the demo citizen and returns the registration id.
	Register(ctx context.Context) (string, error)
	Messages() []demo.MailMessage
	// Changed is closed when the mailbox changes (a new channel each time).
	Changed() <-chan struct{}
	ConfirmCode(ctx context.Context, registrationID, code string) (string, error)
}

// DemoPanel is the demo's citizen and mailbox page.
type DemoPanel struct {
	s        *Shell
	w        DemoWorld
	Register *widget.Button
	Confirm  *widget.Button
	Mail     *widget.Label
	Status   *widget.Label
	regID    *string // demoPanels.regID
	content  fyne.CanvasObject
}

// NewDemoPanel is Options.Demo for a demo world. One goroutine follows the mailbox until ctx
// ends and redraws the panel last built (touched only on the UI goroutine).
func NewDemoPanel(ctx context.Context, w DemoWorld) func(s *Shell) fyne.CanvasObject {
	d := &demoPanels{w: w}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-w.Changed():
			}
			fyne.Do(func() {
				if d.current != nil {
					d.current.showMail()
				}
			})
		}
	}()
	return func(s *Shell) fyne.CanvasObject { return d.build(s).content }
}

// demoPanels builds the panel each time it opens and keeps what outlives one panel: the last
// built, and the citizen's registration (the officer leaves the panel to approve in between).
type demoPanels struct {
	w       DemoWorld
	current *DemoPanel
	regID   string
}

func (d *demoPanels) build(s *Shell) *DemoPanel {
	p := &DemoPanel{s: s, w: d.w, Mail: wrapped(""), Status: wrapped(""), regID: &d.regID}
	d.current = p
	p.Register = s.bigButton("ui.demo.register", p.register)
	p.Confirm = s.button("ui.demo.confirm", p.confirm)
	p.showMail()
	p.content = container.NewVBox(heading(s.tx.T("ui.demo.title")), wrapped(s.tx.T("ui.demo.intro")),
		container.NewHBox(touchSized(p.Register), touchSized(p.Confirm),
			touchSized(s.button("ui.common.back", s.showHome))), p.Status,
		widget.NewLabelWithStyle(s.tx.T("ui.demo.mailbox"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), p.Mail)
	return p
}

func (p *DemoPanel) showMail() {
	msgs := p.w.Messages()
	if len(msgs) == 0 {
		p.Mail.SetText(p.s.tx.T("ui.demo.no_mail"))
		return
	}
	var b strings.Builder
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		fmt.Fprintf(&b, "%s — %s → %s\n%s\n\n", m.Received.Local().Format("15:04:05"), m.Subject, m.To, m.Text)
	}
	p.Mail.SetText(b.String())
}

func (p *DemoPanel) register() {
	var id string
	p.s.async(func() error {
		var err error
		id, err = p.w.Register(context.Background())
		return err
	}, func(err error) {
		if err != nil {
			p.Status.SetText(p.s.tx.Err(err))
			return
		}
		*p.regID = id
		p.s.log.Info("demo citizen registered", "demo", "registered")
		p.Status.SetText(p.s.tx.T("ui.demo.registered"))
	})
}

func (p *DemoPanel) confirm() {
	code := ""
	for _, m := range p.w.Messages() {
		if m.Code != "" {
			code = m.Code
		}
	}
	if code == "" || *p.regID == "" {
		p.Status.SetText(p.s.tx.T("ui.demo.no_code"))
		return
	}
	var status string
	p.s.async(func() error {
		var err error
		status, err = p.w.ConfirmCode(context.Background(), *p.regID, code)
		return err
	}, func(err error) {
		if err != nil {
			p.s.log.Warn("demo code refused", "demo", "code_refused", "err", err)
			p.Status.SetText(p.s.tx.Err(err))
			return
		}
		p.s.log.Info("demo code confirmed", "demo", "code_confirmed", "status", status)
		p.Status.SetText(p.s.tx.T("ui.demo.confirmed", code, status))
	})
}
