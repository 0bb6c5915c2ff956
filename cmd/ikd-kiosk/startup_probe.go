package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"github.com/ikd-field/ikd/kiosk/ui"
)

// The start-up probe (ikdctl bench kiosk): with IKD_STARTUP_PROBE=FILE the kiosk writes to
// FILE the seconds from process start to its first unlock and login screens, then quits.
// IKD_STARTUP_PROBE_SECRET_FILE names a file whose contents are entered on the unlock
// screen as the officer would type them, so the login screen is reached without a person.
const (
	startupProbeEnv       = "IKD_STARTUP_PROBE"
	startupProbeSecretEnv = "IKD_STARTUP_PROBE_SECRET_FILE"
)

// mainStarted is the fallback origin where /proc does not say when the process started.
var mainStarted = time.Now()

// startupProbe times the screens of one start.
type startupProbe struct {
	path   string
	secret string
	app    fyne.App
	shell  *ui.Shell // set by runWindow once built

	mu      sync.Mutex
	started bool            // fyne's loop is running: the window is being drawn
	pending map[string]bool // screens shown before started
	lines   []string
	done    bool
}

// newStartupProbe returns the probe asked for by the environment, or nil.
func newStartupProbe(a fyne.App) (*startupProbe, error) {
	path := os.Getenv(startupProbeEnv)
	if path == "" {
		return nil, nil
	}
	p := &startupProbe{path: path, app: a, pending: map[string]bool{}}
	if f := os.Getenv(startupProbeSecretEnv); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("start-up probe secret: %w", err)
		}
		p.secret = string(bytes.TrimSpace(b))
	}
	a.Lifecycle().SetOnStarted(p.loopStarted)
	return p, nil
}

// loopStarted: the screen set before ShowAndRun counts from when fyne's loop started
// drawing the window, not from when its content was built.
func (p *startupProbe) loopStarted() {
	p.mu.Lock()
	p.started = true
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	for _, name := range []string{ui.ScreenUnlock, ui.ScreenLogin} {
		if pending[name] {
			go fyne.Do(func() { p.reached(nil, name) })
		}
	}
}

// onShow is the shell's Options.OnShow.
func (p *startupProbe) onShow(s *ui.Shell, screen string) {
	if screen != ui.ScreenUnlock && screen != ui.ScreenLogin {
		return
	}
	p.mu.Lock()
	if !p.started {
		p.pending[screen] = true
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.reached(s, screen)
}

// reached records screen's time and moves on: unlock with the secret, or finish.
func (p *startupProbe) reached(s *ui.Shell, screen string) {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return
	}
	p.lines = append(p.lines, fmt.Sprintf("%s %.3f", screen, sinceProcessStart().Seconds()))
	finish := screen == ui.ScreenLogin || p.secret == ""
	p.done = finish
	p.mu.Unlock()
	if !finish {
		if s == nil {
			s = p.shell
		}
		if s == nil || !s.SubmitUnlock(p.secret) {
			p.finish("the unlock screen could not be submitted")
		}
		return
	}
	p.finish("")
}

func (p *startupProbe) finish(problem string) {
	p.mu.Lock()
	p.done = true
	out := strings.Join(p.lines, "\n") + "\n"
	p.mu.Unlock()
	if problem != "" {
		out += "error " + problem + "\n"
	}
	if err := os.WriteFile(p.path, []byte(out), 0o600); err != nil {
		fmt.Fprintf(os.Stderr, "ikd-kiosk: start-up probe: %v\n", err)
	}
	go fyne.Do(p.app.Quit)
}

// sinceProcessStart is the time since the kernel started this process (so the Go runtime's
// and the packages' initialisation count), to the kernel's 10 ms clock-tick resolution.
func sinceProcessStart() time.Duration {
	stat, err1 := os.ReadFile("/proc/self/stat")
	up, err2 := os.ReadFile("/proc/uptime")
	if err1 != nil || err2 != nil {
		return time.Since(mainStarted)
	}
	// Field 22 (starttime, in clock ticks since boot) counts from after the command name,
	// which is in parentheses and may hold spaces.
	rest := stat[bytes.LastIndexByte(stat, ')')+1:]
	fields := strings.Fields(string(rest))
	upFields := strings.Fields(string(up))
	if len(fields) < 20 || len(upFields) == 0 {
		return time.Since(mainStarted)
	}
	ticks, err1 := strconv.ParseFloat(fields[19], 64)
	uptime, err2 := strconv.ParseFloat(upFields[0], 64)
	if err1 != nil || err2 != nil {
		return time.Since(mainStarted)
	}
	const clockTicks = 100 // USER_HZ, 100 on every Linux architecture the kiosk runs on
	return time.Duration((uptime - ticks/clockTicks) * float64(time.Second))
}
