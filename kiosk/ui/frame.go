package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk"
)

// langNames are the language choices, in the language itself so anyone can find theirs.
var langNames = []string{"Bahasa Indonesia", "English"}

// frame puts the header bar (officer, language, switch officer, lock) above a page.
func (s *Shell) frame(page fyne.CanvasObject) fyne.CanvasObject {
	title := widget.NewLabelWithStyle(s.tx.T("ui.app.title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	lang := widget.NewSelect(langNames, nil)
	lang.Selected = langNames[0]
	if s.tx.Lang() == kiosk.LangEN {
		lang.Selected = langNames[1]
	}
	lang.OnChanged = func(name string) {
		if name == langNames[1] {
			s.SetLang(kiosk.LangEN)
		} else {
			s.SetLang(kiosk.LangID)
		}
	}
	if s.curBuild == nil {
		lang.Disable() // a visit in progress keeps its language
	}
	right := []fyne.CanvasObject{container.New(atLeast{fyne.NewSize(190, 0)}, lang)}
	if s.sess != nil {
		me := s.sess.Officer()
		who := widget.NewLabel(s.tx.T("ui.header.officer", me.Name, s.roleName(me.Role)))
		sw := s.button("ui.header.switch", s.Lock)
		lock := s.button("ui.header.lock", s.Lock)
		right = append([]fyne.CanvasObject{who}, append(right, sw, lock)...)
	}
	bar := container.NewBorder(nil, nil, title, container.NewHBox(right...))
	return container.NewBorder(container.NewVBox(bar, widget.NewSeparator(), s.IdleWarn), nil, nil, nil, container.NewPadded(page))
}

func (s *Shell) roleName(r kiosk.Role) string {
	if r == kiosk.RoleSupervisor {
		return s.tx.T("ui.role.supervisor")
	}
	return s.tx.T("ui.role.officer")
}

// button is a button whose tap counts as officer activity.
func (s *Shell) button(key string, tapped func()) *widget.Button {
	return widget.NewButton(s.tx.T(key), func() {
		s.touch()
		tapped()
	})
}

// bigButton is a touch-sized primary button.
func (s *Shell) bigButton(key string, tapped func()) *widget.Button {
	b := s.button(key, tapped)
	b.Importance = widget.HighImportance
	return b
}

// heading is a large label for what the citizen or officer must read first.
func heading(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameHeadingText
	l.Wrapping = fyne.TextWrapWord
	return l
}

// wrapped is a label that wraps, for messages of any length.
func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// errLabel is where a refusal is shown in the officer's words.
func errLabel() *widget.Label {
	l := wrapped("")
	l.Importance = widget.DangerImportance
	return l
}

// touchSize is the minimum size of a button meant for a finger.
var touchSize = fyne.NewSize(120, 72)

// touchSized gives obj at least the touch size, and more when its text needs it.
func touchSized(obj fyne.CanvasObject) fyne.CanvasObject {
	return container.New(atLeast{touchSize}, obj)
}

// atLeast is a layout whose objects fill it and whose minimum is their own or size,
// whichever is larger.
type atLeast struct{ size fyne.Size }

func (l atLeast) MinSize(objs []fyne.CanvasObject) fyne.Size {
	m := l.size
	for _, o := range objs {
		m = m.Max(o.MinSize().AddWidthHeight(theme.Padding()*2, 0))
	}
	return m
}

func (l atLeast) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}
