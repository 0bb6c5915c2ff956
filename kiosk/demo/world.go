package demo

import (
	"context"
	"fmt"
)

// World is the demo's citizen side as the window's demo panel drives it (ui.DemoWorld): the
// citizen registers, the mailbox fills, the citizen confirms the code.
type World struct{ d *Demo }

// World is d's citizen side for the window's demo panel.
func (d *Demo) World() World { return World{d} }

// Register registers the activating citizen (their phone then shows the QR to the camera) and
// returns the registration id.
func (w World) Register(ctx context.Context) (string, error) {
	r := w.d.Activating
	resp, err := w.d.Citizen.Register(ctx, r.NIK, DemoEmail(r), "0812-3456-7789")
	if err != nil {
		return "", fmt.Errorf("demo citizen registers: %w", err)
	}
	return resp.RegistrationID, nil
}

// Messages is what the demo mailbox received, oldest first.
func (w World) Messages() []MailMessage { return w.d.Mailbox.Messages() }

// Changed is closed when the next message arrives.
func (w World) Changed() <-chan struct{} { return w.d.Mailbox.Changed() }

// ConfirmCode confirms the e-mailed code as the citizen does in the IKD app.
func (w World) ConfirmCode(ctx context.Context, id, code string) (string, error) {
	return w.d.Citizen.ConfirmCode(ctx, id, code)
}
