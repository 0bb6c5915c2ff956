package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk"
)

// KeepStatus writes the window's state to path whenever it changes (checked every interval)
// until the returned stop is called: the screen, the camera and the outbox, each visible
// button, check box and field with its place on the window, and the texts shown. A scripted
// walk-through (build/check-walk.sh) waits on it and clicks by label instead of by guess.
// Call it on fyne's goroutine after Start.
func (s *Shell) KeepStatus(path string, interval time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		last := ""
		for {
			var text string
			fyne.DoAndWait(func() { text = s.StatusText() })
			last = s.writeStatus(path, text, last)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// writeStatus replaces the file at path with text unless text is last, what it already
// holds; it returns what the file holds now. A reader never sees a half-written file.
func (s *Shell) writeStatus(path, text, last string) string {
	if text == last {
		return last
	}
	if err := writeAtomic(path, text); err != nil {
		s.log.Warn("status file", "err", err)
		return last
	}
	return text
}

func writeAtomic(path, text string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".status-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(text); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// StatusText is the window's state, one item a line:
//
//	screen home
//	camera missing
//	records pending=0 sent=0 acknowledged=2 rejected=0
//	button X Y W H enabled|disabled TEXT
//	check X Y W H checked|unchecked TEXT
//	entry X Y W H focused|- TEXT|PLACEHOLDER
//	text TEXT
//
// X Y W H are the object's place on the window in pixels (a button's centre is X+W/2);
// newlines inside texts become " / ". Call it on fyne's goroutine.
func (s *Shell) StatusText() string {
	var b strings.Builder
	name := ""
	if s.cur != nil {
		name = screenName(s.cur)
	}
	fmt.Fprintf(&b, "screen %s\n", name)
	st := s.k.Status()
	fmt.Fprintf(&b, "camera %s\n", st.Camera.State)
	fmt.Fprintf(&b, "records pending=%d sent=%d acknowledged=%d rejected=%d\n", st.Counts[kiosk.RecordPending],
		st.Counts[kiosk.RecordSent], st.Counts[kiosk.RecordAcknowledged], st.Counts[kiosk.RecordRejected])
	c := s.w.Canvas()
	focused := c.Focused()
	scale := c.Scale()
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		place := func() string {
			p := fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
			sz := o.Size()
			return fmt.Sprintf("%d %d %d %d", int(p.X*scale), int(p.Y*scale), int(sz.Width*scale), int(sz.Height*scale))
		}
		switch w := o.(type) {
		case *fyne.Container:
			for _, child := range w.Objects {
				walk(child)
			}
		case *widget.PopUp:
			walk(w.Content)
		case *container.Scroll:
			walk(w.Content)
		case *widget.Card:
			fmt.Fprintf(&b, "text %s\n", oneLine(w.Title))
			walk(w.Content)
		case *widget.Form:
			for _, it := range w.Items {
				fmt.Fprintf(&b, "text %s\n", oneLine(it.Text))
				walk(it.Widget)
				if it.HintText != "" {
					fmt.Fprintf(&b, "text %s\n", oneLine(it.HintText))
				}
			}
		case *widget.Button:
			state := "enabled"
			if w.Disabled() {
				state = "disabled"
			}
			fmt.Fprintf(&b, "button %s %s %s\n", place(), state, oneLine(w.Text))
		case *widget.Check:
			fmt.Fprintf(&b, "check %s %s %s\n", place(), checkState(w), oneLine(w.Text))
		case *bigCheck: // the review's eye check: a widget.Check inside, a row to tap
			fmt.Fprintf(&b, "check %s %s %s\n", place(), checkState(&w.Check), oneLine(w.Text))
		case *keyEntry:
			fmt.Fprintf(&b, "entry %s %s %s\n", place(), focusMark(focused == w), entryText(&w.Entry))
		case *widget.Entry:
			fmt.Fprintf(&b, "entry %s %s %s\n", place(), focusMark(focused == w), entryText(w))
		case *widget.Select:
			fmt.Fprintf(&b, "text %s\n", oneLine(w.Selected))
		case *widget.RadioGroup:
			fmt.Fprintf(&b, "text %s\n", oneLine(w.Selected))
		case *widget.Label:
			if w.Text != "" {
				fmt.Fprintf(&b, "text %s\n", oneLine(w.Text))
			}
		case *canvas.Text:
			if w.Text != "" {
				fmt.Fprintf(&b, "text %s\n", oneLine(w.Text))
			}
		}
	}
	walk(c.Content())
	for _, o := range c.Overlays().List() {
		walk(o)
	}
	return b.String()
}

func focusMark(f bool) string {
	if f {
		return "focused"
	}
	return "-"
}

// entryText is what a field shows: its text (masked when a password), else its placeholder.
func entryText(e *widget.Entry) string {
	switch {
	case e.Text != "" && e.Password:
		return strings.Repeat("*", len([]rune(e.Text)))
	case e.Text != "":
		return oneLine(e.Text)
	}
	return oneLine(e.PlaceHolder)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " / ")), " ")
}

func checkState(c *widget.Check) string {
	if c.Checked {
		return "checked"
	}
	return "unchecked"
}
