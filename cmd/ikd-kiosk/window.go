package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/ui"
)

// probeEnv makes the binary only try to open a window and quit: fyne hangs rather than
// fails where there is no GL context, so the probe runs in a child bounded by a timeout.
const probeEnv = "IKD_KIOSK_PROBE_GL"

// canOpenWindow reports whether a window can be shown: a display is set and a child
// process managed to make a GL window on it.
func canOpenWindow(ctx context.Context) bool {
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return false
	}
	self, err := os.Executable()
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), probeEnv+"=1")
	return cmd.Run() == nil
}

// probeWindow is the child's side of canOpenWindow.
func probeWindow() int {
	a := fyneapp.NewWithID(appID)
	w := a.NewWindow("IKD")
	w.Resize(fyne.NewSize(64, 64))
	go func() {
		time.Sleep(300 * time.Millisecond)
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
	return 0
}

const appID = "id.go.dukcapil.ikd.kiosk"

// runWindow shows the kiosk's screens over k until the window is closed or ctx ends.
// With statusFile set, the window keeps its state there (ui.Shell.KeepStatus).
func runWindow(ctx context.Context, k app.Kiosk, opt ui.Options, statusFile string) error {
	a := fyneapp.NewWithID(appID)
	w := a.NewWindow("IKD")
	if opt.PollEvery == 0 {
		opt.PollEvery = 2 * time.Second
	}
	probe, err := newStartupProbe(a)
	if err != nil {
		return err
	}
	if probe != nil {
		opt.OnShow = probe.onShow
	}
	shell, err := ui.NewShell(w, k, opt)
	if err != nil {
		return fmt.Errorf("kiosk window: %w", err)
	}
	if probe != nil {
		probe.shell = shell
	}
	w.Resize(fyne.NewSize(1366, 768))
	w.SetOnClosed(shell.Stop)
	shell.Start()
	if statusFile != "" {
		stopStatus := shell.KeepStatus(statusFile, 200*time.Millisecond)
		defer stopStatus()
	}
	stop := context.AfterFunc(ctx, func() { fyne.Do(a.Quit) })
	defer stop()
	w.ShowAndRun()
	return nil
}
