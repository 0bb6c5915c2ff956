package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/demo"
	"github.com/ikd-field/ikd/kiosk/ui"
)

// runKiosk opens the real kiosk and its window.
func runKiosk(ctx context.Context, cfg app.Config, statusFile string) error {
	// Opened before the window probe, which may take seconds: the camera starts at Open,
	// so a missing one is in the log at once.
	k, err := app.Open(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open kiosk: %w", err)
	}
	if !canOpenWindow(ctx) {
		return errors.Join(errors.New("no display with OpenGL available; the kiosk needs its window"), k.Close())
	}
	werr := runWindow(ctx, k, ui.Options{OutDir: filepath.Join(cfg.DataDir, "out"), Log: cfg.Log}, statusFile)
	return errors.Join(werr, k.Close())
}

// runWindowDemo builds the demo world and opens the window over it, with the demo panel.
func runWindowDemo(ctx context.Context, cfg demo.DemoConfig, out io.Writer, statusFile string) error {
	d, err := demo.NewDemo(ctx, cfg)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(out, "Demo kiosk: log in as %s with PIN %s; the home screen's \"Demo: warga & kotak surat\" opens the demo panel.\n",
		demo.DemoSupervisor.Name, demo.DemoPIN)
	panelCtx, stopPanel := context.WithCancel(ctx)
	defer stopPanel()
	werr := runWindow(ctx, d.Kiosk, ui.Options{OutDir: filepath.Join(d.Dir, "out"), Log: cfg.Log, Demo: ui.NewDemoPanel(panelCtx, d.World())}, statusFile)
	return errors.Join(werr, d.Close())
}
