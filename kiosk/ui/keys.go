package ui

import (
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/token"
)

// runeTaker is a screen that takes typed characters nobody else focused on (PIN digits).
type runeTaker interface{ typedRune(r rune) }

// keyTaker is a screen that takes keys the shortcuts leave (Enter, Backspace on a PIN pad).
type keyTaker interface{ typedKey(ev *fyne.KeyEvent) }

// backer is a screen with somewhere to go back to (Esc).
type backer interface{ back() }

// stepCloser is a screen with a panel open over its page (the supervisor's PIN, the reject
// reasons) that Esc closes first; closeStep reports whether there was one.
type stepCloser interface{ closeStep() bool }

// defaulter is a screen with a default action for Enter when no field takes it.
type defaulter interface{ defaultAction() }

// typedKey handles the counter's shortcuts: F2 activation, F3 deactivation, F5 sync,
// Esc back, Enter the screen's default action (or a hand scanner's complete token or NIK).
// A visit in progress is only left with Esc (the screen decides what back means).
func (s *Shell) typedKey(ev *fyne.KeyEvent) {
	s.touch()
	enter := ev.Name == fyne.KeyReturn || ev.Name == fyne.KeyEnter
	if enter && s.takeScan() {
		return
	}
	s.scan = s.scan[:0]
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
		if c, ok := s.cur.(stepCloser); ok && c.closeStep() {
			return // Esc left the PIN pad or the reasons, not the citizen's visit
		}
		if b, ok := s.cur.(backer); ok {
			b.back()
		}
	default:
		if k, ok := s.cur.(keyTaker); ok {
			k.typedKey(ev)
		} else if d, ok := s.cur.(defaulter); ok && enter {
			d.defaultAction()
		}
	}
}

// scanGap: a hand scanner types a code's characters a few milliseconds apart; a pause longer
// than this starts a new code, so a person's slow typing is not taken for a scan.
const scanGap = 150 * time.Millisecond

// typedRune is a character that reached no field. It goes to the screen (PIN digits) and to
// the scan buffer, where a hand scanner's code is gathered until its Enter.
func (s *Shell) typedRune(r rune) {
	now := s.opt.Now()
	if len(s.scan) > 0 && now.Sub(s.lastRune) > scanGap {
		s.scan = s.scan[:0]
	}
	s.lastRune = now
	if s.pinPadShown() {
		s.scan = s.scan[:0] // a PIN typed fast is a PIN: its Enter is the pad's
	} else if len(s.scan) < maxScan {
		s.scan = append(s.scan, r)
	}
	s.touch()
	if k, ok := s.cur.(runeTaker); ok {
		k.typedRune(r)
	}
}

// maxScan bounds the scan buffer; an activation QR's text is well below it.
const maxScan = 4096

// pinPadShown reports whether typed digits go to a PIN pad (login, a supervisor's PIN).
func (s *Shell) pinPadShown() bool {
	switch p := s.cur.(type) {
	case *LoginScreen, *SupervisorScreen:
		return true
	case *ActivationScreen:
		return p.Review != nil && p.Review.Supervisor != nil
	case *DeactivationScreen:
		return p.Review != nil && p.Review.Supervisor != nil
	}
	return false
}

// takeScan handles an Enter that ends a hand scanner's typing: a complete code is routed; a
// code the kiosk does not know is refused in words, and its Enter does not reach the screen
// (it must not approve a review). It reports whether the Enter was the scanner's.
func (s *Shell) takeScan() bool {
	text := string(s.scan)
	scanned := len(s.scan) > 0 && s.opt.Now().Sub(s.lastRune) <= scanGap
	s.scan = s.scan[:0]
	if s.sess == nil || !scanned { // nobody logged in: Enter belongs to the PIN pad
		return false
	}
	if isScanToken(text) || isNIKText(text) {
		s.routeScan(text)
		return true
	}
	s.log.Info("scan not recognised", "chars", len(text), "screen", screenName(s.cur))
	switch p := s.cur.(type) {
	case *ActivationScreen:
		p.Error.SetText(s.tx.Err(errScanUnknown))
	case *DeactivationScreen:
		p.Error.SetText(s.tx.Err(errScanUnknown))
	}
	return true
}

// errScanUnknown: the hand scanner read something that is neither an IKD QR nor a NIK.
var errScanUnknown = &kiosk.Error{Code: "scan.unknown", Msg: kiosk.Message{
	ID: "Kode yang dipindai tidak dikenali: bukan QR aktivasi IKD atau NIK 16 angka.",
	EN: "The scanned code is not recognised: it is neither an IKD activation QR nor a 16-digit NIK."}}

func isScanToken(text string) bool { return strings.HasPrefix(text, token.Prefix) }

// isNIKText is what a KTP barcode or a typed NIK looks like: 16 digits.
func isNIKText(text string) bool {
	if len(text) != 16 {
		return false
	}
	for _, c := range text {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// errScanMidVisit: a code was scanned while another citizen's visit is open.
var errScanMidVisit = &kiosk.Error{Code: "scan.mid_visit", Msg: kiosk.Message{
	ID: "Pindaian diabaikan: kunjungan lain sedang berjalan. Selesaikan atau batalkan (Esc) dulu, lalu pindai lagi.",
	EN: "Scan ignored: another visit is in progress. Finish or cancel it (Esc) first, then scan again."}}

// routeScan takes a hand scanner's code wherever the officer is: an activation QR to the
// activation (opened when needed), a NIK to the lost-phone report. A visit in progress is
// never left for a scan; it says why the scan was ignored.
func (s *Shell) routeScan(text string) {
	if s.sess == nil {
		return // nobody logged in: nothing may start (a QR typed into the unlock field)
	}
	tok := isScanToken(text)
	kind := "nik"
	if tok {
		kind = "token"
	}
	switch p := s.cur.(type) {
	case *ActivationScreen:
		if tok && !p.Token.Disabled() {
			s.log.Info("scan routed", "kind", kind, "screen", "activation")
			p.Token.SetText(text)
			p.enterToken()
			return
		}
		if p.v.State() != kiosk.StateIdle { // an idle visit is left without a trace
			p.Error.SetText(s.tx.Err(errScanMidVisit))
			return
		}
	case *DeactivationScreen:
		if !tok && !p.NIK.Disabled() {
			s.log.Info("scan routed", "kind", kind, "screen", "deactivation")
			p.NIK.SetText(text)
			p.submit()
			return
		}
		if p.v.State() != kiosk.StateIdle {
			p.Error.SetText(s.tx.Err(errScanMidVisit))
			return
		}
	}
	s.log.Info("scan routed", "kind", kind, "screen", screenName(s.cur))
	if tok {
		s.showActivation()
		if p, ok := s.cur.(*ActivationScreen); ok {
			p.Token.SetText(text)
			p.enterToken()
		}
		return
	}
	s.showDeactivation()
	if p, ok := s.cur.(*DeactivationScreen); ok {
		p.NIK.SetText(text)
		p.submit()
	}
}

// Enter on the screens without a field: start an activation from home, sync on the sync
// panel, finish the receipt, save the settings.
func (p *HomeScreen) defaultAction()     { p.s.showActivation() }
func (p *SyncScreen) defaultAction()     { p.syncRound() }
func (p *ReceiptScreen) defaultAction()  { p.Done.OnTapped() }
func (p *SettingsScreen) defaultAction() { p.Save.OnTapped() }

// focusTarget of the settings is its first field.
func (p *SettingsScreen) focusTarget() fyne.Focusable { return p.Camera }

// keyEntry is an entry that passes the shortcut keys on to the shell, because a focused
// widget otherwise swallows every key (a hand scanner's field is focused most of the time),
// and counts typing as activity for the idle lock.
type keyEntry struct {
	widget.Entry
	s *Shell
	// takesToken marks the activation's scanner field; any other field hands a scanned
	// activation QR (Enter after "IKD1:…") to the shell instead of keeping it as text.
	takesToken bool
	// keys, when set, takes keys before the entry does (↑/↓ on the reject note).
	keys func(ev *fyne.KeyEvent) bool
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
	case fyne.KeyReturn, fyne.KeyEnter:
		if !e.takesToken && isScanToken(e.Text) {
			text := e.Text
			e.SetText("")
			e.s.routeScan(text)
			return
		}
		if e.OnSubmitted == nil && !e.MultiLine {
			e.s.typedKey(ev) // the screen's default action
			return
		}
	}
	if e.keys != nil && e.keys(ev) {
		e.s.touch()
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

// focus gives the keyboard to f, or to nobody (nil) so that typed keys reach the shell.
func (s *Shell) focus(f fyne.Focusable) {
	if f == nil {
		s.w.Canvas().Unfocus()
		return
	}
	s.w.Canvas().Focus(f)
}

// touchRow is the least height of a row a finger taps (a check box, a reason).
const touchRow = 56

// bigCheck is a check box a finger can hit: the whole row, at least touchRow high, toggles
// it, and the shell's keys (Enter, F-keys, Esc) pass through while it has the focus.
type bigCheck struct {
	widget.Check
	s *Shell
}

func newBigCheck(s *Shell, label string, changed func(bool)) *bigCheck {
	c := &bigCheck{s: s}
	c.Text = label
	c.OnChanged = changed
	c.ExtendBaseWidget(c)
	return c
}

// MinSize implements fyne.Widget.
func (c *bigCheck) MinSize() fyne.Size {
	m := c.Check.MinSize()
	m.Height = max(m.Height, touchRow)
	return m
}

// Tapped toggles the box wherever the row is tapped (widget.Check takes only its own text).
func (c *bigCheck) Tapped(*fyne.PointEvent) {
	if c.Disabled() {
		return
	}
	c.s.touch()
	c.SetChecked(!c.Checked)
}

// TypedKey implements fyne.Focusable.
func (c *bigCheck) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter, fyne.KeyF2, fyne.KeyF3, fyne.KeyF5, fyne.KeyEscape:
		c.s.typedKey(ev)
		return
	}
	c.Check.TypedKey(ev)
}
