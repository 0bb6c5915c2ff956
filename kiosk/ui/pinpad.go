package ui

import (
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// maxPIN bounds what the pad accepts; the store decides what a valid PIN is.
const maxPIN = 12

// PINPad is a touch-sized numeric pad; a keyboard's digits work too (the shell routes them).
type PINPad struct {
	s       *Shell
	Digits  [10]*widget.Button
	Clear   *widget.Button
	OK      *widget.Button
	Display *widget.Label
	pin     string
	// OnOK receives the PIN entered.
	OnOK func(pin string)
}

func newPINPad(s *Shell, okKey string) *PINPad {
	p := &PINPad{s: s, Display: heading("")}
	for d := 0; d < 10; d++ {
		digit := strconv.Itoa(d)
		p.Digits[d] = widget.NewButton(digit, func() {
			s.touch()
			p.Press(digit)
		})
	}
	p.Clear = s.button("ui.pin.clear", p.Reset)
	p.OK = s.bigButton(okKey, func() {
		if p.OnOK != nil && p.pin != "" {
			p.OnOK(p.pin)
		}
	})
	p.show()
	return p
}

// Press adds a digit.
func (p *PINPad) Press(digit string) {
	if len(p.pin) < maxPIN {
		p.pin += digit
	}
	p.show()
}

// Reset clears the PIN.
func (p *PINPad) Reset() {
	p.pin = ""
	p.show()
}

func (p *PINPad) show() {
	if p.pin == "" {
		p.Display.SetText(p.s.tx.T("ui.pin.prompt"))
		return
	}
	p.Display.SetText(strings.Repeat("●", len(p.pin)))
}

func (p *PINPad) view() fyne.CanvasObject {
	keys := make([]fyne.CanvasObject, 0, 12)
	for _, d := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9} {
		keys = append(keys, touchSized(p.Digits[d]))
	}
	keys = append(keys, touchSized(p.Clear), touchSized(p.Digits[0]), touchSized(p.OK))
	return container.NewVBox(p.Display, container.NewGridWithColumns(3, keys...))
}

// typedRune takes a digit from a keyboard.
func (p *PINPad) typedRune(r rune) {
	if r >= '0' && r <= '9' {
		p.Press(string(r))
	}
}

// typedKey takes Enter and Backspace from a keyboard.
func (p *PINPad) typedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		if p.OnOK != nil && p.pin != "" {
			p.OnOK(p.pin)
		}
	case fyne.KeyBackspace:
		if p.pin != "" {
			p.pin = p.pin[:len(p.pin)-1]
			p.show()
		}
	}
}
