package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
)

// Options are what the command decides about the window.
type Options struct {
	// OutDir is where printed receipts and CSV exports are written (created when needed).
	OutDir string
	// PollEvery is how often the home screen, sync panel and receipt refresh their status and
	// the idle lock is checked; 0 disables the background refresh (tests call Refresh).
	PollEvery time.Duration
	// Now is the clock for the idle lock; nil means time.Now.
	Now func() time.Time
	// Demo, when set, is an extra panel (the demo mailbox) reachable from the home screen.
	Demo func(s *Shell) fyne.CanvasObject
	// OnShow, when set, is called on fyne's goroutine after a screen was put on the window,
	// with its name (ScreenUnlock, ScreenLogin, "home", "activation" and the like, or the
	// screen's Go type): the start-up probe times the first login screen with it.
	OnShow func(s *Shell, screen string)
	// Log receives a line for each screen shown (screen=home); nil discards.
	Log *slog.Logger
}

// Screen names given to Options.OnShow.
const (
	ScreenUnlock = "unlock"
	ScreenLogin  = "login"
)

// screen is one page of the window.
type screen interface {
	// view is the laid-out page.
	view() fyne.CanvasObject
	// stop ends the page's background work (preview, scanning, polling).
	stop()
}

// refresher is a screen whose contents follow the kiosk's status.
type refresher interface{ refresh() }

// focuser is a screen with a field that should take the keyboard when it opens, so a hand
// scanner's or the officer's first keystroke lands there instead of vanishing.
type focuser interface{ focusTarget() fyne.Focusable }

// Shell is the window's controller: navigation, the officer's session, the idle lock,
// keyboard shortcuts and the language.
type Shell struct {
	w    fyne.Window
	k    app.Kiosk
	tx   *Text
	opt  Options
	log  *slog.Logger
	sess app.Session

	cur        screen
	curBuild   func() screen // rebuilds cur after a language switch; nil if cur holds a visit
	lastActive time.Time
	stopPoll   context.CancelFunc
	notice     string // shown once on the next home screen ("visit rejected")

	// goAsync runs slow core calls off the UI goroutine; tests make it synchronous.
	goAsync func(func())
}

// NewShell builds the shell for window w over kiosk k. Call Start to show the first screen.
func NewShell(w fyne.Window, k app.Kiosk, opt Options) (*Shell, error) {
	tx, err := NewText(k.Settings().Lang)
	if err != nil {
		return nil, err
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.OutDir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		opt.OutDir = filepath.Join(home, "ikd-kiosk")
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	s := &Shell{w: w, k: k, tx: tx, opt: opt, log: opt.Log, goAsync: func(f func()) { go f() }}
	s.lastActive = opt.Now()
	w.Canvas().SetOnTypedKey(s.typedKey)
	w.Canvas().SetOnTypedRune(func(r rune) {
		s.touch()
		if k, ok := s.cur.(runeTaker); ok {
			k.typedRune(r)
		}
	})
	return s, nil
}

// Start shows the unlock or login screen and starts the background refresh.
func (s *Shell) Start() {
	if s.k.Locked() {
		s.showUnlock()
	} else {
		s.showLogin()
	}
	if s.opt.PollEvery > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		s.stopPoll = cancel
		go s.poll(ctx)
	}
}

// Stop ends the background work; the command calls it when the window closes.
func (s *Shell) Stop() {
	if s.stopPoll != nil {
		s.stopPoll()
	}
	if s.cur != nil {
		s.cur.stop()
	}
}

func (s *Shell) poll(ctx context.Context) {
	t := time.NewTicker(s.opt.PollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fyne.Do(s.Refresh)
		}
	}
}

// Refresh updates the current screen from the kiosk's status and applies the idle lock.
func (s *Shell) Refresh() {
	if s.sess != nil {
		idle := s.k.Settings().IdleLock
		if idle > 0 && s.opt.Now().Sub(s.lastActive) >= idle {
			s.Lock()
			return
		}
	}
	if r, ok := s.cur.(refresher); ok {
		r.refresh()
	}
}

// touch records officer activity for the idle lock.
func (s *Shell) touch() { s.lastActive = s.opt.Now() }

// show replaces the current screen. build is kept to rebuild the screen after a language
// switch when restartable is true (screens holding a visit are not rebuilt).
func (s *Shell) show(build func() screen, restartable bool) {
	if s.cur != nil {
		s.cur.stop()
	}
	s.touch()
	s.cur = build()
	s.curBuild = nil
	if restartable {
		s.curBuild = build
	}
	s.w.SetContent(s.frame(s.cur.view()))
	if f, ok := s.cur.(focuser); ok {
		s.w.Canvas().Focus(f.focusTarget())
	}
	name := screenName(s.cur)
	s.log.Info("screen shown", "screen", name)
	if s.opt.OnShow != nil {
		s.opt.OnShow(s, name)
	}
}

func screenName(sc screen) string {
	switch p := sc.(type) {
	case *UnlockScreen:
		return ScreenUnlock
	case *LoginScreen:
		return ScreenLogin
	case *HomeScreen:
		return "home"
	case *ActivationScreen:
		return "activation"
	case *DeactivationScreen:
		return "deactivation"
	case *SettingsScreen:
		return "settings"
	case *ReceiptScreen:
		return "receipt"
	case *SyncScreen:
		return "sync"
	case *StatsScreen:
		return "stats"
	case *SupervisorScreen:
		return "supervisor"
	case *staticScreen:
		if p.name != "" {
			return p.name
		}
	}
	return fmt.Sprintf("%T", sc)
}

// SubmitUnlock enters secret on the unlock screen and presses its button, as the officer
// would; it reports false when the unlock screen is not showing. Call it on fyne's goroutine.
func (s *Shell) SubmitUnlock(secret string) bool {
	p, ok := s.cur.(*UnlockScreen)
	if !ok {
		return false
	}
	p.Secret.SetText(secret)
	p.submit()
	return true
}

// SetLang switches the language at run time and rebuilds the current screen.
func (s *Shell) SetLang(l kiosk.Lang) {
	s.tx.SetLang(l)
	if s.curBuild != nil {
		s.show(s.curBuild, true)
	}
}

// Lock ends the officer's session (idle timeout or "Kunci") and returns to the login screen.
func (s *Shell) Lock() {
	if s.cur != nil {
		s.cur.stop()
		s.cur = nil
	}
	if s.sess != nil {
		s.sess.Lock()
		s.sess = nil
	}
	s.showLogin()
}

// async runs work off the UI goroutine and done back on it.
func (s *Shell) async(work func() error, done func(error)) {
	s.goAsync(func() {
		err := work()
		fyne.Do(func() { done(err) })
	})
}

// quiet reports whether err is the end of a step the officer asked for (cancel, back).
func quiet(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (s *Shell) showUnlock() {
	s.show(func() screen { return newUnlockScreen(s) }, true)
}

func (s *Shell) showLogin() {
	s.show(func() screen { return newLoginScreen(s) }, true)
}

func (s *Shell) showHome() {
	if s.sess == nil {
		s.showLogin()
		return
	}
	s.show(func() screen { return newHomeScreen(s) }, true)
}

func (s *Shell) showActivation() {
	if s.sess == nil {
		return
	}
	v := s.sess.NewActivation()
	s.show(func() screen { return newActivationScreen(s, v) }, false)
}

func (s *Shell) showDeactivation() {
	if s.sess == nil {
		return
	}
	v := s.sess.NewDeactivation()
	s.show(func() screen { return newDeactivationScreen(s, v) }, false)
}

func (s *Shell) showSync() {
	if s.sess == nil {
		return
	}
	s.show(func() screen { return newSyncScreen(s) }, true)
}

func (s *Shell) showStats() {
	s.asSupervisor(func(kiosk.Officer) {
		s.show(func() screen { return newStatsScreen(s) }, true)
	})
}

func (s *Shell) showSettings() {
	s.asSupervisor(func(sup kiosk.Officer) {
		s.show(func() screen { return newSettingsScreen(s, sup) }, true)
	})
}

func (s *Shell) showReceipt(r app.Receipt) {
	s.show(func() screen { return newReceiptScreen(s, r) }, false)
}

func (s *Shell) showDemo() {
	if s.opt.Demo == nil || s.sess == nil {
		return
	}
	s.show(func() screen { return &staticScreen{obj: s.opt.Demo(s), name: "demo"} }, true)
}

// asSupervisor runs action as the current officer when they are a supervisor, else after a
// supervisor confirms with their PIN.
func (s *Shell) asSupervisor(action func(sup kiosk.Officer)) {
	if s.sess == nil {
		return
	}
	if me := s.sess.Officer(); me.Role == kiosk.RoleSupervisor {
		action(me)
		return
	}
	back := s.curBuild
	s.show(func() screen {
		return newSupervisorScreen(s, action, func() {
			if back != nil {
				s.show(back, true)
			} else {
				s.showHome()
			}
		})
	}, false)
}

// staticScreen is a page with no background work.
type staticScreen struct {
	obj  fyne.CanvasObject
	name string // for the log and the status file; "" gives the type's
}

func (p *staticScreen) view() fyne.CanvasObject { return p.obj }
func (p *staticScreen) stop()                   {}
