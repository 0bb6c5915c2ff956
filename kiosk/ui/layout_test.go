package ui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
)

// counter is the smallest screen the kiosk is used on.
var counter = fyne.NewSize(1366, 768)

// onScreen fails t unless obj lies wholly inside the 1366×768 window.
func onScreen(t *testing.T, what string, obj fyne.CanvasObject) {
	t.Helper()
	p := fyne.CurrentApp().Driver().AbsolutePositionForObject(obj)
	sz := obj.Size()
	if !obj.Visible() || sz.IsZero() || p.X < 0 || p.Y < 0 || p.X+sz.Width > counter.Width || p.Y+sz.Height > counter.Height {
		t.Errorf("%s at %v size %v, not inside the %v window", what, p, sz, counter)
	}
}

// fits fails t when the window's content needs more than 1366×768: the real window would
// grow past the screen and cut off what is drawn beyond it.
func fits(t *testing.T, h *harness, screen string) {
	t.Helper()
	if m := h.w.Content().MinSize(); m.Width > counter.Width || m.Height > counter.Height {
		t.Errorf("%s needs %v, more than the %v screen", screen, m, counter)
	}
}

func settingsAsSupervisor(t *testing.T, h *harness) *SettingsScreen {
	t.Helper()
	test.Tap(h.s.cur.(*HomeScreen).Settings)
	p, ok := h.s.cur.(*SettingsScreen)
	if !ok {
		t.Fatalf("a supervisor's settings tap shows %T", h.s.cur)
	}
	return p
}

// With the camera test shown, Simpan and Kembali (and the error above them) stay on the
// screen however little height is left for the settings: they scroll, the buttons do not.
// (The test theme draws smaller than the real one, so the window here is shorter than a
// 1366×768 screen; build/check-walk.sh checks the real window at 1366×768.)
func TestSettingsButtonsStayOnScreenWithCameraTest(t *testing.T) {
	h := loggedIn(t, sari)
	short := fyne.NewSize(counter.Width, 520)
	h.w.Resize(short)
	p := settingsAsSupervisor(t, h)
	test.Tap(p.TestCam)
	if p.Preview == nil {
		t.Fatal("no camera test view")
	}
	if m := h.w.Content().MinSize(); m.Height > short.Height {
		t.Errorf("settings with the camera test need %v, more than %v", m, short)
	}
	within := func(what string, obj fyne.CanvasObject) {
		t.Helper()
		p := fyne.CurrentApp().Driver().AbsolutePositionForObject(obj)
		if sz := obj.Size(); !obj.Visible() || sz.IsZero() || p.Y < 0 || p.Y+sz.Height > short.Height {
			t.Errorf("%s at %v size %v, not inside the %v window", what, p, sz, short)
		}
	}
	within("Simpan", p.Save)
	within("Kembali", p.Back)
	p.IdleMin.SetText("lima")
	test.Tap(p.Save)
	if p.Error.Text == "" {
		t.Fatal("a bad number gives no error")
	}
	within("the error", p.Error)
}

// A setting that is not set reads as words saying what applies instead, not "0", and every
// setting explains itself under its field.
func TestSettingsUnsetValuesInWords(t *testing.T) {
	h := loggedIn(t, sari)
	h.k.settings.CameraDevice, h.k.settings.CameraWidth, h.k.settings.CameraHeight = "", 0, 0
	h.k.settings.RegistryURL, h.k.settings.Thresholds = "", kiosk.FaceThresholds{}
	p := settingsAsSupervisor(t, h)
	for _, c := range []struct {
		name  string
		e     *keyEntry
		words string
	}{
		{"camera", p.Camera, "belum diatur — tanpa kamera"},
		{"width", p.Width, "belum diatur — memakai bawaan 1280"},
		{"height", p.Height, "belum diatur — memakai bawaan 720"},
		{"registry", p.Registry, "belum diatur — kiosk belum didaftarkan"},
		{"match", p.Match, "belum diatur — memakai kalibrasi model wajah"},
		{"no match", p.NoMatch, "belum diatur — memakai kalibrasi model wajah"},
	} {
		if c.e.Text != "" || !strings.HasPrefix(c.e.PlaceHolder, c.words) {
			t.Errorf("%s: text %q, placeholder %q; want empty and %q", c.name, c.e.Text, c.e.PlaceHolder, c.words)
		}
	}
	shown := h.s.StatusText()
	for _, key := range []string{"ui.settings.camera_hint", "ui.settings.size_hint", "ui.settings.registry_hint",
		"ui.settings.match_hint", "ui.settings.no_match_hint", "ui.settings.idle_hint", "ui.settings.lang_hint",
		"ui.settings.supervisor_deactivation_hint"} {
		if hint := h.s.tx.T(key); !strings.Contains(shown, "text "+oneLine(hint)+"\n") {
			t.Errorf("the settings do not explain %s (%q)", key, hint)
		}
	}
	if strings.Contains(shown, "entry") && regexp.MustCompile(`(?m)^entry .* 0$`).MatchString(shown) {
		t.Errorf("a bare 0 is shown:\n%s", shown)
	}
	// Saved as they are, the unset settings stay unset.
	test.Tap(p.Save)
	if s := h.k.settings; s.CameraWidth != 0 || s.CameraHeight != 0 || s.Thresholds != (kiosk.FaceThresholds{}) || s.IdleLock == 0 {
		t.Fatalf("saved %+v", s)
	}
}

// A long reason on the home screen (no models) wraps: the window stays 1366 px wide, with
// "Lapor HP hilang" and "Kunci" on the screen.
func TestHomeFitsTheCounterScreen(t *testing.T) {
	h := newHarness(t)
	h.k.status.FaceModels = app.FaceUnavailable
	h.k.status.FaceError = app.ErrNoModels.With(errors.New("no model directory"))
	h.unlock("rahasia-kiosk")
	h.login(budi)
	home := h.s.cur.(*HomeScreen)
	fits(t, h, "home without models")
	onScreen(t, "Lapor HP hilang", home.Deactivate)
	onScreen(t, "the demo-less bottom row", home.Settings)
}

// The status file lists the screen and each button with a place a script can click.
func TestStatusTextPlacesButtons(t *testing.T) {
	h := loggedIn(t, budi)
	home := h.s.cur.(*HomeScreen)
	got := h.s.StatusText()
	if !strings.HasPrefix(got, "screen home\ncamera ready\nrecords pending=2 sent=0 acknowledged=5 rejected=1\n") {
		t.Fatalf("status text starts:\n%s", got)
	}
	m := regexp.MustCompile(`(?m)^button (\d+) (\d+) (\d+) (\d+) enabled ` + regexp.QuoteMeta(home.Activate.Text) + `$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no line for %q:\n%s", home.Activate.Text, got)
	}
	p := fyne.CurrentApp().Driver().AbsolutePositionForObject(home.Activate)
	if want := fmt.Sprintf("%d %d %d %d", int(p.X), int(p.Y), int(home.Activate.Size().Width), int(home.Activate.Size().Height)); strings.Join(m[1:5], " ") != want {
		t.Errorf("place %v, want %s", m[1:5], want)
	}
	home.Sync.Disable()
	if !strings.Contains(h.s.StatusText(), " disabled "+home.Sync.Text+"\n") {
		t.Error("a disabled button is not marked")
	}
	h.key(fyne.KeyF3)
	got = h.s.StatusText()
	if !strings.HasPrefix(got, "screen deactivation\n") || !regexp.MustCompile(`(?m)^entry \d+ \d+ \d+ \d+ focused `).MatchString(got) {
		t.Fatalf("deactivation:\n%s", got)
	}
	test.Type(h.s.w.Canvas().Focused(), "3201")
	if !regexp.MustCompile(`(?m)^entry .* focused 3201$`).MatchString(h.s.StatusText()) {
		t.Fatalf("typed text not shown:\n%s", h.s.StatusText())
	}
}

// The status file follows the window: a new screen is written, an unchanged state is not
// written again.
func TestStatusFileFollowsTheWindow(t *testing.T) {
	h := loggedIn(t, budi)
	path := filepath.Join(t.TempDir(), "status")
	read := func() string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	last := h.s.writeStatus(path, h.s.StatusText(), "")
	if got := read(); !strings.HasPrefix(got, "screen home\n") || got != last {
		t.Fatalf("status file %q", got)
	}
	h.key(fyne.KeyF2)
	last = h.s.writeStatus(path, h.s.StatusText(), last)
	if got := read(); !strings.HasPrefix(got, "screen activation\n") {
		t.Fatalf("after F2 the status file says %q", got)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if h.s.writeStatus(path, last, last); fileExists(path) {
		t.Error("an unchanged state was written again")
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// The review's eye check is in the status file with its place and state, so a scripted walk
// can tick it (it is a bigCheck, not a plain widget.Check).
func TestStatusTextListsTheEyeCheck(t *testing.T) {
	h := loggedIn(t, budi)
	r := h.review(kiosk.FaceResult{Band: kiosk.BandUncertain, Score: 0.45})
	line := regexp.MustCompile(`(?m)^check \d+ \d+ \d+ \d+ unchecked ` + regexp.QuoteMeta(r.EyeCheck.Text) + `$`)
	if !line.MatchString(h.s.StatusText()) {
		t.Fatalf("no unchecked eye check:\n%s", h.s.StatusText())
	}
	r.EyeCheck.SetChecked(true)
	if !strings.Contains(h.s.StatusText(), " checked "+r.EyeCheck.Text+"\n") {
		t.Fatalf("ticked eye check not marked:\n%s", h.s.StatusText())
	}
}
