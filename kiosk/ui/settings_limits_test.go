package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/ikd-field/ikd/kiosk"
)

// The stale-data limits and the retention, typed in days, reach the core as a policy and a
// duration; a limit left empty beside others takes its default.
func TestSettingsLimitsSaved(t *testing.T) {
	for _, c := range []struct {
		name                  string
		warn, sup, stop, keep string
		want                  kiosk.StalePolicy
		retention             time.Duration
	}{
		{"all set", "2", "10", "45", "60", kiosk.StalePolicy{WarnAfter: 2 * day, SupervisorAfter: 10 * day, StopAfter: 45 * day}, 60 * day},
		{"only the stop", "", "", " 60 ", "", kiosk.StalePolicy{WarnAfter: 3 * day, SupervisorAfter: 7 * day, StopAfter: 60 * day}, 0},
		{"equal limits", "5", "5", "5", "1", kiosk.StalePolicy{WarnAfter: 5 * day, SupervisorAfter: 5 * day, StopAfter: 5 * day}, day},
		{"all empty", "", "", "", "", kiosk.StalePolicy{}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := loggedIn(t, sari)
			h.k.settings.Stale, h.k.settings.Retention = kiosk.StalePolicy{WarnAfter: day, SupervisorAfter: 2 * day, StopAfter: 3 * day}, 9*day
			p := settingsAsSupervisor(t, h)
			p.StaleWarn.SetText(c.warn)
			p.StaleSup.SetText(c.sup)
			p.StaleStop.SetText(c.stop)
			p.Retention.SetText(c.keep)
			test.Tap(p.Save)
			got := h.k.sess.updated
			if got == nil {
				t.Fatalf("nothing saved; error %q", p.Error.Text)
			}
			if got.Stale != c.want || got.Retention != c.retention {
				t.Fatalf("saved stale %+v retention %v, want %+v and %v", got.Stale, got.Retention, c.want, c.retention)
			}
			if _, ok := h.s.cur.(*HomeScreen); !ok {
				t.Fatalf("after save: %T", h.s.cur)
			}
		})
	}
}

// A set policy shows its days; reopened and saved untouched, it stays as it was.
func TestSettingsLimitsShown(t *testing.T) {
	h := loggedIn(t, sari)
	set := kiosk.StalePolicy{WarnAfter: 2 * day, SupervisorAfter: 10 * day, StopAfter: 45 * day}
	h.k.settings.Stale, h.k.settings.Retention = set, 60*day
	p := settingsAsSupervisor(t, h)
	for _, f := range []struct {
		e    *keyEntry
		want string
	}{{p.StaleWarn, "2"}, {p.StaleSup, "10"}, {p.StaleStop, "45"}, {p.Retention, "60"}} {
		if f.e.Text != f.want {
			t.Errorf("field %q, want %q", f.e.Text, f.want)
		}
	}
	test.Tap(p.Save)
	if got := h.k.sess.updated; got == nil || got.Stale != set || got.Retention != 60*day {
		t.Fatalf("saved untouched: %+v", got)
	}
}

// Bad days or limits out of order say why, name the field, and save nothing.
func TestSettingsLimitsRefused(t *testing.T) {
	for _, c := range []struct {
		name                  string
		warn, sup, stop, keep string
		says                  string
	}{
		{"not a number", "tiga", "", "", "", `"Peringatan data lama setelah (hari)" harus berupa jumlah hari`},
		{"a fraction", "", "", "7,5", "", `"Aktivasi berhenti setelah (hari)" harus berupa jumlah hari`},
		{"zero", "", "0", "", "", `"Aktivasi perlu PIN supervisor setelah (hari)" harus berupa jumlah hari`},
		{"negative retention", "", "", "", "-3", `"Simpan bukti catatan selama (hari)" harus berupa jumlah hari`},
		{"zero retention", "", "", "", "0", `"Simpan bukti catatan selama (hari)" harus berupa jumlah hari`},
		{"warn after supervisor", "10", "7", "30", "", "harus berurutan: peringatan ≤ PIN supervisor ≤ berhenti (kini 10, 7, 30 hari)"},
		{"supervisor after stop", "3", "40", "30", "", "harus berurutan: peringatan ≤ PIN supervisor ≤ berhenti (kini 3, 40, 30 hari)"},
		{"warn after the default supervisor", "10", "", "", "", "(kini 10, 7, 30 hari)"},
		{"stop before the default warn", "", "", "2", "", "(kini 3, 7, 2 hari)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := loggedIn(t, sari)
			p := settingsAsSupervisor(t, h)
			p.StaleWarn.SetText(c.warn)
			p.StaleSup.SetText(c.sup)
			p.StaleStop.SetText(c.stop)
			p.Retention.SetText(c.keep)
			test.Tap(p.Save)
			if !strings.Contains(p.Error.Text, c.says) {
				t.Errorf("error %q, want it to say %q", p.Error.Text, c.says)
			}
			if h.k.sess.updated != nil {
				t.Errorf("saved %+v", *h.k.sess.updated)
			}
			if h.s.cur != p {
				t.Errorf("left the settings for %T", h.s.cur)
			}
		})
	}
}

// Unset limits read as their defaults in words, each explains itself (deactivations are
// never limited), and saved as they are they stay unset. The longer screen still fits the
// counter's width in both languages.
func TestSettingsLimitsUnsetInWords(t *testing.T) {
	h := loggedIn(t, sari)
	p := settingsAsSupervisor(t, h)
	for _, c := range []struct {
		name  string
		e     *keyEntry
		words string
	}{
		{"warn", p.StaleWarn, "belum diatur — memakai bawaan 3"},
		{"supervisor", p.StaleSup, "belum diatur — memakai bawaan 7"},
		{"stop", p.StaleStop, "belum diatur — memakai bawaan 30"},
		{"retention", p.Retention, "belum diatur — memakai bawaan 30"},
	} {
		if c.e.Text != "" || c.e.PlaceHolder != c.words {
			t.Errorf("%s: text %q, placeholder %q; want empty and %q", c.name, c.e.Text, c.e.PlaceHolder, c.words)
		}
	}
	shown := h.s.StatusText()
	for _, key := range []string{"ui.settings.stale_warn_hint", "ui.settings.stale_supervisor_hint",
		"ui.settings.stale_stop_hint", "ui.settings.retention_hint"} {
		if hint := h.s.tx.T(key); !strings.Contains(shown, "text "+oneLine(hint)+"\n") {
			t.Errorf("the settings do not explain %s (%q)", key, hint)
		}
	}
	for _, key := range []string{"ui.settings.stale_supervisor_hint", "ui.settings.stale_stop_hint"} {
		if hint := h.s.tx.T(key); !strings.Contains(hint, "Penonaktifan") {
			t.Errorf("%s does not say deactivations go on: %q", key, hint)
		}
	}
	fits(t, h, "settings")
	test.Tap(p.Save)
	if s := h.k.sess.updated; s == nil || s.Stale != (kiosk.StalePolicy{}) || s.Retention != 0 {
		t.Fatalf("saved %+v", s)
	}
	// The same screen in English.
	settingsAsSupervisor(t, h)
	p = h.s.cur.(*SettingsScreen)
	p.Lang.SetSelected("English")
	test.Tap(p.Save)
	settingsAsSupervisor(t, h)
	fits(t, h, "settings in English")
	if !strings.Contains(h.s.StatusText(), "Deactivations are never limited") {
		t.Error("the English settings do not say deactivations are never limited")
	}
}
