package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// runeTaker is a screen that takes typed characters nobody else focused on (PIN digits).
type runeTaker interface{ typedRune(r rune) }

// keyTaker is a screen that takes keys the shortcuts leave (Enter, Backspace on a PIN pad).
type keyTaker interface{ typedKey(ev *fyne.KeyEvent) }

// backer is a screen with somewhere to go back to (Esc).
type backer interface{ back() }

// typedKey handles the counter's shortcuts: F2 activation, F3 deactivation, F5 sync,
// Esc back. A visit in progress is only left with Esc (the screen decides what back means).
func (s *Shell) typedKey(ev *fyne.KeyEvent) {
	s.touch()
	switch ev.Name {
	case fyne.KeyF2:
		if s.curBuild != nil {
			s.showActivation()
		}
	case fyne.KeyF3:
		if s.curBuild != nil {
			s.showDeactivation()
		}
	case fyne.KeyF5:
		switch {
		case s.sess == nil:
		case s.curBuild != nil:
			// On a screen the officer may leave: the sync panel, and its answer there.
			s.showSync()
			if p, ok := s.cur.(*SyncScreen); ok {
				p.syncRound()
			}
		default:
			s.k.SyncNow() // mid-visit: the engine's round, without leaving the citizen
		}
	case fyne.KeyEscape:
		if b, ok := s.cur.(backer); ok {
			b.back()
		}
	default:
		if k, ok := s.cur.(keyTaker); ok {
			k.typedKey(ev)
		}
	}
}

// keyEntry is an entry that passes the shortcut keys on to the shell, because a focused
// widget otherwise swallows every key (a hand scanner's field is focused most of the time),
// and counts typing as activity for the idle lock.
type keyEntry struct {
	widget.Entry
	s *Shell
}

func newKeyEntry(s *Shell) *keyEntry {
	e := &keyEntry{s: s}
	e.ExtendBaseWidget(e)
	return e
}

func newPasswordKeyEntry(s *Shell) *keyEntry {
	e := newKeyEntry(s)
	e.Password = true
	return e
}

// TypedKey implements fyne.Focusable.
func (e *keyEntry) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyF2, fyne.KeyF3, fyne.KeyF5, fyne.KeyEscape:
		e.s.typedKey(ev)
		return
	}
	e.s.touch()
	e.Entry.TypedKey(ev)
}

// TypedRune implements fyne.Focusable.
func (e *keyEntry) TypedRune(r rune) {
	e.s.touch()
	e.Entry.TypedRune(r)
}
