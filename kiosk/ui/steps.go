package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// The steps of a visit, as the step bar shows them.
const (
	stepFirst  = iota // scan the QR, or type the NIK
	stepFace          // the face check
	stepReview        // the officer's review and decision
	stepDone          // the receipt
)

// stepBar shows the visit's steps with the current one marked, so officer and citizen see
// where they are and what comes next.
type stepBar struct {
	Labels []*widget.Label
	names  []string
	cur    int
}

func newStepBar(tx *Text, keys ...string) *stepBar {
	b := &stepBar{}
	for _, k := range keys {
		b.names = append(b.names, tx.T(k))
		b.Labels = append(b.Labels, widget.NewLabel(""))
	}
	b.set(stepFirst)
	return b
}

// set marks step i as the current one: those before it done, those after it to come.
func (b *stepBar) set(i int) {
	b.cur = i
	for j, l := range b.Labels {
		switch {
		case j < i:
			l.Text, l.Importance, l.TextStyle = "✓ "+b.names[j], widget.SuccessImportance, fyne.TextStyle{}
		case j == i:
			l.Text, l.Importance, l.TextStyle = "● "+b.names[j], widget.HighImportance, fyne.TextStyle{Bold: true}
		default:
			l.Text, l.Importance, l.TextStyle = b.names[j], widget.LowImportance, fyne.TextStyle{}
		}
		l.Refresh()
	}
}

func (b *stepBar) view() fyne.CanvasObject {
	objs := make([]fyne.CanvasObject, 0, 2*len(b.Labels))
	for j, l := range b.Labels {
		if j > 0 {
			objs = append(objs, widget.NewLabel("→"))
		}
		objs = append(objs, l)
	}
	return container.NewCenter(container.NewHBox(objs...))
}
