package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// The home screen shows the data's age in words and, past each limit, what the policy asks;
// the words come from the core's verdict, not from the UI.
func TestHomeShowsDataAge(t *testing.T) {
	h := loggedIn(t, budi)
	p := h.s.cur.(*HomeScreen)
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		age    time.Duration
		words  string
		policy string // "" when hidden
	}{
		{2 * time.Hour, "penduduk: 2 jam · kunci: 2 jam · pencabutan: 2 jam", ""},
		{4 * 24 * time.Hour, "penduduk: 4 hari", "mulai lama"},
		{8 * 24 * time.Hour, "pencabutan: 8 hari", kiosk.ErrStaleSupervisor.Msg.ID},
		{31 * 24 * time.Hour, "kunci: 31 hari", kiosk.ErrStaleBlocked.Msg.ID},
	} {
		at := now.Add(-c.age)
		h.k.status.Now = now
		h.k.status.Data = kiosk.DataAges{Residents: at, Keys: at, Revocations: at}
		h.k.status.Stale = kiosk.DefaultStalePolicy.Judge(h.k.status.Data, now, kiosk.PurposeActivation)
		p.refresh()
		if !strings.Contains(p.Data.Ages.Text, c.words) {
			t.Errorf("%v: ages %q, want %q", c.age, p.Data.Ages.Text, c.words)
		}
		if c.policy == "" {
			if p.Data.Policy.Visible() {
				t.Errorf("%v: policy shown: %q", c.age, p.Data.Policy.Text)
			}
		} else if !p.Data.Policy.Visible() || !strings.Contains(p.Data.Policy.Text, c.policy) {
			t.Errorf("%v: policy %q (visible %t), want %q", c.age, p.Data.Policy.Text, p.Data.Policy.Visible(), c.policy)
		}
	}
}

func TestReviewShowsWhenNIKReportedLost(t *testing.T) {
	h := loggedIn(t, budi)
	lost := time.Date(2026, 11, 1, 8, 30, 0, 0, time.Local)
	note := h.s.lostNote(kiosk.Resident{Revocations: kiosk.Revocations{DeactivatedAt: lost}})
	if got := textOf(note); !strings.Contains(got, "01-11-2026 08:30") || !strings.Contains(got, "dilaporkan hilang") {
		t.Errorf("note %q", got)
	}
	if got := textOf(h.s.lostNote(kiosk.Resident{})); got != "" {
		t.Errorf("note without a loss: %q", got)
	}
}

// textOf is the text of every label in o.
func textOf(o fyne.CanvasObject) string {
	switch w := o.(type) {
	case *widget.Label:
		return w.Text
	case *fyne.Container:
		var parts []string
		for _, c := range w.Objects {
			if t := textOf(c); t != "" {
				parts = append(parts, t)
			}
		}
		return strings.Join(parts, "\n")
	}
	return ""
}
