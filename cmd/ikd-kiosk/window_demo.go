package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/ui"
)

// demoWorld is the demo's citizen side for the window's demo panel.
type demoWorld struct{ d *app.Demo }

func (w demoWorld) Register(ctx context.Context) (string, error) {
	r := w.d.Activating
	resp, err := w.d.Citizen.Register(ctx, r.NIK, app.DemoEmail(r), "0812-3456-7789")
	if err != nil {
		return "", fmt.Errorf("demo citizen registers: %w", err)
	}
	return resp.RegistrationID, nil
}

func (w demoWorld) Messages() []app.MailMessage { return w.d.Mailbox.Messages() }
func (w demoWorld) Changed() <-chan struct{}    { return w.d.Mailbox.Changed() }
func (w demoWorld) ConfirmCode(ctx context.Context, id, code string) (string, error) {
	return w.d.Citizen.ConfirmCode(ctx, id, code)
}

// runKiosk opens the real kiosk and its window.
func runKiosk(ctx context.Context, cfg app.Config, queue string) error {
	// Opened before the window probe, which may take seconds: the camera starts at Open,
	// so a missing one is in the log at once.
	k, err := app.Open(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open kiosk: %w", err)
	}
	if !canOpenWindow(ctx) {
		return errors.Join(errors.New("no display with OpenGL available; the kiosk needs its window"), k.Close())
	}
	werr := runWindow(ctx, k, printerOptions(ui.Options{OutDir: receiptDir(cfg.DataDir), Log: cfg.Log}, queue))
	return errors.Join(werr, k.Close())
}

// runWindowDemo builds the demo world and opens the window over it, with the demo panel.
func runWindowDemo(ctx context.Context, cfg app.DemoConfig, out io.Writer, queue string) error {
	d, err := app.NewDemo(ctx, cfg)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(out, "Demo kiosk: log in as %s with PIN %s; the demo panel is on the home screen.\n",
		app.DemoSupervisor.Name, app.DemoPIN)
	panelCtx, stopPanel := context.WithCancel(ctx)
	defer stopPanel()
	werr := runWindow(ctx, d.Kiosk, printerOptions(ui.Options{OutDir: receiptDir(d.Dir), Demo: ui.NewDemoPanel(panelCtx, demoWorld{d})}, queue))
	return errors.Join(werr, d.Close())
}
