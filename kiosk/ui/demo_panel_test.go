package ui

import (
	"context"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/ikd-field/ikd/kiosk/demo"
)

// fakeDemoWorld registers one citizen and records the codes confirmed.
type fakeDemoWorld struct {
	msgs      []demo.MailMessage
	confirmed []string // "registration:code"
}

func (w *fakeDemoWorld) Register(context.Context) (string, error) { return "reg-1", nil }
func (w *fakeDemoWorld) Messages() []demo.MailMessage             { return w.msgs }
func (w *fakeDemoWorld) Changed() <-chan struct{}                 { return make(chan struct{}) }
func (w *fakeDemoWorld) ConfirmCode(_ context.Context, reg, code string) (string, error) {
	w.confirmed = append(w.confirmed, reg+":"+code)
	return "activated", nil
}

// TestDemoPanelKeepsTheRegistration: the citizen registers, the officer leaves the panel to
// approve, the code arrives, and the panel opened again confirms it for that registration.
func TestDemoPanelKeepsTheRegistration(t *testing.T) {
	h := newHarness(t)
	w := &fakeDemoWorld{}
	d := &demoPanels{w: w}
	p1 := d.build(h.s)
	test.Tap(p1.Register)

	w.msgs = []demo.MailMessage{{To: "warga@mail.demo", Code: "123456"}}
	p2 := d.build(h.s)
	test.Tap(p2.Confirm)
	if len(w.confirmed) != 1 || w.confirmed[0] != "reg-1:123456" {
		t.Fatalf("confirmed %v (status %q), want the code of reg-1", w.confirmed, p2.Status.Text)
	}
}
