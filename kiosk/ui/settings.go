package ui

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
)

// SettingsScreen lets a supervisor change the camera, the registry URL, the face thresholds
// (the core keeps them within the calibration's safe bounds), the idle lock, the language, the
// stale-data limits and the evidence retention.
type SettingsScreen struct {
	s        *Shell
	by       kiosk.Officer
	Camera   *keyEntry
	Width    *keyEntry
	Height   *keyEntry
	Registry *keyEntry
	Match    *keyEntry
	NoMatch  *keyEntry
	IdleMin  *keyEntry
	Lang     *widget.RadioGroup
	SupDeact *widget.Check
	// The stale-data limits and the retention, in days.
	StaleWarn *keyEntry
	StaleSup  *keyEntry
	StaleStop *keyEntry
	Retention *keyEntry
	Save      *widget.Button
	Back      *widget.Button
	Error     *widget.Label
	TestCam   *widget.Button
	CamRetry  *widget.Button // beside the camera test while opening the camera again may help
	Preview   *Preview       // the camera test view, once asked for
	camBox    *fyne.Container
	scroll    *container.Scroll // the settings above the fixed bar
	endCam    context.CancelFunc
	cur       app.Settings
}

func newSettingsScreen(s *Shell, by kiosk.Officer) *SettingsScreen {
	cur := s.k.Settings()
	p := &SettingsScreen{s: s, by: by, cur: cur, Error: errLabel()}
	// A setting that is not set shows an empty field saying in words what applies instead,
	// never a bare "0".
	entry := func(v, unset string) *keyEntry {
		e := newKeyEntry(s)
		e.SetText(v)
		e.SetPlaceHolder(unset)
		return e
	}
	count := func(v int) string {
		if v == 0 {
			return ""
		}
		return strconv.Itoa(v)
	}
	thresholds := cur.Thresholds != (kiosk.FaceThresholds{})
	score := func(v float64) string {
		if !thresholds {
			return ""
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	tx := s.tx
	p.Camera = entry(cur.CameraDevice, tx.T("ui.settings.camera_unset"))
	p.Width = entry(count(cur.CameraWidth), tx.T("ui.settings.unset", strconv.Itoa(camera.DefaultSize.Width)))
	p.Height = entry(count(cur.CameraHeight), tx.T("ui.settings.unset", strconv.Itoa(camera.DefaultSize.Height)))
	p.Registry = entry(cur.RegistryURL, tx.T("ui.settings.registry_unset"))
	p.Match = entry(score(cur.Thresholds.Match), tx.T("ui.settings.thresholds_unset"))
	p.NoMatch = entry(score(cur.Thresholds.NoMatch), tx.T("ui.settings.thresholds_unset"))
	p.IdleMin = entry(count(int(cur.IdleLock/time.Minute)), tx.T("ui.settings.unset", strconv.Itoa(int(app.DefaultIdleLock/time.Minute))))
	// The stale-data limits are one policy: unset, all three fields are empty.
	def := kiosk.DefaultStalePolicy
	stale := func(v time.Duration) string {
		if cur.Stale == (kiosk.StalePolicy{}) {
			return ""
		}
		return strconv.Itoa(int(v / day))
	}
	p.StaleWarn = entry(stale(cur.Stale.WarnAfter), tx.T("ui.settings.unset", strconv.Itoa(int(def.WarnAfter/day))))
	p.StaleSup = entry(stale(cur.Stale.SupervisorAfter), tx.T("ui.settings.unset", strconv.Itoa(int(def.SupervisorAfter/day))))
	p.StaleStop = entry(stale(cur.Stale.StopAfter), tx.T("ui.settings.unset", strconv.Itoa(int(def.StopAfter/day))))
	p.Retention = entry(count(int(cur.Retention/day)), tx.T("ui.settings.unset", strconv.Itoa(int(app.DefaultRetention/day))))
	p.Lang = widget.NewRadioGroup(langNames, nil)
	p.Lang.Horizontal = true
	p.Lang.SetSelected(langNames[0])
	if cur.Lang == kiosk.LangEN {
		p.Lang.SetSelected(langNames[1])
	}
	p.SupDeact = widget.NewCheck(s.tx.T("ui.settings.supervisor_deactivation"), nil)
	p.SupDeact.SetChecked(cur.SupervisorForDeactivation)
	p.Save = s.bigButton("ui.settings.save", p.save)
	p.Back = s.button("ui.common.back", s.showHome)
	p.TestCam = s.button("ui.settings.test_camera", p.testCamera)
	p.CamRetry = s.button("ui.status.camera_retry", func() { s.retryCamera(p.testCamera) })
	p.CamRetry.Hide()
	p.camBox = container.NewStack()
	return p
}

// testCamera shows the running camera's picture, so the supervisor sees the device and
// resolution work before saving (a changed device applies when saved).
func (p *SettingsScreen) testCamera() {
	p.stop()
	ctx, end := context.WithCancel(context.Background())
	p.endCam = end
	p.Preview = newPreview()
	p.camBox.Objects = []fyne.CanvasObject{container.NewVBox(
		container.NewGridWrap(fyne.NewSize(320, 180), p.Preview.view()), container.NewCenter(p.CamRetry))}
	p.camBox.Refresh()
	if p.scroll != nil {
		p.scroll.ScrollToBottom() // the test picture, under the form, comes into sight
	}
	p.refresh()
	frames, err := p.s.k.Preview(ctx)
	if err != nil {
		p.Preview.Status.SetText(p.s.tx.T("ui.visit.no_camera", p.s.tx.Err(err)))
		return
	}
	p.s.goAsync(func() { p.Preview.run(ctx, frames) })
}

// day is the unit of the stale-data limits and the retention on this screen.
const day = 24 * time.Hour

// read turns the fields into settings. On bad input, bad is the message key and field the
// label key of the field it names; limits out of order give "ui.settings.stale_order".
func (p *SettingsScreen) read() (n app.Settings, bad, field string) {
	n = p.cur
	// An empty field is a setting left unset (0): the default applies.
	num := func(e *keyEntry, key string) int {
		if strings.TrimSpace(e.Text) == "" {
			return 0
		}
		v, err := strconv.Atoi(strings.TrimSpace(e.Text))
		if err != nil || v < 0 {
			bad, field = "ui.settings.not_number", key
		}
		return v
	}
	// Days must be whole and at least 1; empty is unset (0).
	days := func(e *keyEntry, key string) time.Duration {
		t := strings.TrimSpace(e.Text)
		if t == "" {
			return 0
		}
		v, err := strconv.Atoi(t)
		if err != nil || v < 1 || time.Duration(v) > math.MaxInt64/day {
			bad, field = "ui.settings.not_days", key
			return 0
		}
		return time.Duration(v) * day
	}
	flt := func(e *keyEntry, key string) float64 {
		if strings.TrimSpace(e.Text) == "" {
			return 0
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(strings.ReplaceAll(e.Text, ",", ".")), 64)
		if err != nil {
			bad, field = "ui.settings.not_number", key
		}
		return v
	}
	n.CameraDevice = strings.TrimSpace(p.Camera.Text)
	n.CameraWidth = num(p.Width, "ui.settings.width")
	n.CameraHeight = num(p.Height, "ui.settings.height")
	n.RegistryURL = strings.TrimSpace(p.Registry.Text)
	n.Thresholds.Match = flt(p.Match, "ui.settings.match")
	n.Thresholds.NoMatch = flt(p.NoMatch, "ui.settings.no_match")
	n.IdleLock = time.Duration(num(p.IdleMin, "ui.settings.idle")) * time.Minute
	if n.IdleLock == 0 {
		n.IdleLock = app.DefaultIdleLock
	}
	n.Lang = kiosk.LangID
	if p.Lang.Selected == langNames[1] {
		n.Lang = kiosk.LangEN
	}
	n.SupervisorForDeactivation = p.SupDeact.Checked
	// A limit left empty beside others takes its default; all three empty: the defaults.
	n.Stale = kiosk.StalePolicy{WarnAfter: days(p.StaleWarn, "ui.settings.stale_warn"),
		SupervisorAfter: days(p.StaleSup, "ui.settings.stale_supervisor"), StopAfter: days(p.StaleStop, "ui.settings.stale_stop")}
	if n.Stale != (kiosk.StalePolicy{}) {
		or := func(v, d time.Duration) time.Duration {
			if v == 0 {
				return d
			}
			return v
		}
		def := kiosk.DefaultStalePolicy
		n.Stale = kiosk.StalePolicy{WarnAfter: or(n.Stale.WarnAfter, def.WarnAfter),
			SupervisorAfter: or(n.Stale.SupervisorAfter, def.SupervisorAfter), StopAfter: or(n.Stale.StopAfter, def.StopAfter)}
	}
	n.Retention = days(p.Retention, "ui.settings.retention")
	if bad == "" && n.Stale.Valid() != nil && n.Stale != (kiosk.StalePolicy{}) {
		bad = "ui.settings.stale_order"
	}
	return n, bad, field
}

func (p *SettingsScreen) save() {
	n, bad, field := p.read()
	switch {
	case bad == "ui.settings.stale_order":
		s := n.Stale
		p.Error.SetText(p.s.tx.T(bad, strconv.Itoa(int(s.WarnAfter/day)), strconv.Itoa(int(s.SupervisorAfter/day)), strconv.Itoa(int(s.StopAfter/day))))
		return
	case bad != "":
		p.Error.SetText(p.s.tx.T(bad, p.s.tx.T(field)))
		return
	}
	p.s.async(func() error { return p.s.sess.UpdateSettings(context.Background(), p.by, n) }, func(err error) {
		if err != nil {
			p.Error.SetText(p.s.tx.Err(err))
			return
		}
		p.s.notice = p.s.tx.T("ui.settings.saved")
		p.s.tx.SetLang(n.Lang)
		p.s.showHome()
	})
}

// refresh puts the camera's state in words over the test picture unless it is ready.
func (p *SettingsScreen) refresh() {
	if p.Preview == nil {
		return
	}
	c := p.s.k.Status().Camera
	if c.State == camera.StateReady {
		p.Preview.Status.SetText("")
	} else {
		p.Preview.Status.SetText(p.s.cameraText(c))
	}
	if cameraRetryable(c) {
		p.CamRetry.Show()
	} else {
		p.CamRetry.Hide()
	}
}

func (p *SettingsScreen) back() { p.s.showHome() }

func (p *SettingsScreen) view() fyne.CanvasObject {
	tx := p.s.tx
	// Each setting says under its field what it does.
	item := func(label string, w fyne.CanvasObject, hint string) *widget.FormItem {
		it := widget.NewFormItem(tx.T(label), w)
		it.HintText = tx.T(hint)
		return it
	}
	form := widget.NewForm(
		item("ui.settings.camera", container.NewBorder(nil, nil, nil, p.TestCam, p.Camera), "ui.settings.camera_hint"),
		item("ui.settings.width", p.Width, "ui.settings.size_hint"),
		item("ui.settings.height", p.Height, "ui.settings.size_hint"),
		item("ui.settings.registry", p.Registry, "ui.settings.registry_hint"),
		item("ui.settings.match", p.Match, "ui.settings.match_hint"),
		item("ui.settings.no_match", p.NoMatch, "ui.settings.no_match_hint"),
		item("ui.settings.idle", p.IdleMin, "ui.settings.idle_hint"),
		item("ui.settings.lang", p.Lang, "ui.settings.lang_hint"),
		item("ui.settings.deactivation", p.SupDeact, "ui.settings.supervisor_deactivation_hint"),
		item("ui.settings.stale_warn", p.StaleWarn, "ui.settings.stale_warn_hint"),
		item("ui.settings.stale_supervisor", p.StaleSup, "ui.settings.stale_supervisor_hint"),
		item("ui.settings.stale_stop", p.StaleStop, "ui.settings.stale_stop_hint"),
		item("ui.settings.retention", p.Retention, "ui.settings.retention_hint"),
	)
	// The settings scroll; the error and Simpan/Kembali stay in a bar at the bottom, on the
	// screen whatever the camera test adds (1366×768).
	p.scroll = container.NewVScroll(container.NewCenter(container.NewVBox(
		heading(tx.T("ui.settings.title")), wrapped(tx.T("ui.settings.bounds")), form, container.NewCenter(p.camBox))))
	bar := container.NewVBox(widget.NewSeparator(), p.Error,
		container.NewCenter(container.NewHBox(touchSized(p.Save), touchSized(p.Back))))
	return container.NewBorder(nil, bar, nil, nil, p.scroll)
}

func (p *SettingsScreen) stop() {
	if p.endCam != nil {
		p.endCam()
	}
}
