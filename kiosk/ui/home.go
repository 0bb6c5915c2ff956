package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk"
)

// HomeScreen is the counter's start page: status at a glance and the two big actions.
type HomeScreen struct {
	s          *Shell
	Queue      *widget.Label
	Online     *widget.Label
	LastSync   *widget.Label
	Models     *widget.Label
	Camera     *widget.Label
	CamRetry   *widget.Button // shown while opening the camera again may help
	Clock      *widget.Label
	Halt       *widget.Label // the registry stopped this kiosk's pushes; hidden otherwise
	Activate   *widget.Button
	Deactivate *widget.Button
	Sync       *widget.Button
	Stats      *widget.Button
	Settings   *widget.Button
	Demo       *widget.Button
	Notice     *widget.Label
}

func newHomeScreen(s *Shell) *HomeScreen {
	p := &HomeScreen{s: s,
		// Wrapped in a panel of fixed width: a long reason (no models, camera missing) must not
		// widen the window past a 1366 px screen and push the actions and "Kunci" off it.
		Queue: wrapped(""), Online: wrapped(""), LastSync: wrapped(""),
		Models: wrapped(""), Camera: wrapped(""), Clock: wrapped(""),
		Halt: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
	}
	p.Halt.Importance = widget.DangerImportance
	p.Halt.Wrapping = fyne.TextWrapWord
	p.Activate = s.bigButton("ui.home.activate", s.showActivation)
	p.Deactivate = s.bigButton("ui.home.deactivate", s.showDeactivation)
	p.Deactivate.Importance = widget.WarningImportance
	p.CamRetry = s.button("ui.status.camera_retry", func() { s.retryCamera(p.refresh) })
	p.Sync = s.button("ui.home.sync", s.showSync)
	p.Stats = s.button("ui.home.stats", s.showStats)
	p.Settings = s.button("ui.home.settings", s.showSettings)
	if s.opt.Demo != nil {
		p.Demo = s.button("ui.home.demo", s.showDemo)
	}
	p.Notice = widget.NewLabelWithStyle(s.notice, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	p.Notice.Importance = widget.SuccessImportance
	s.notice = ""
	p.refresh()
	return p
}

func (p *HomeScreen) refresh() {
	st := p.s.k.Status()
	tx := p.s.tx
	p.Queue.SetText(tx.T("ui.home.queue", st.Pending, st.Counts[kiosk.RecordRejected]))
	p.Online.SetText(p.s.onlineText(st))
	p.LastSync.SetText(tx.T("ui.home.last_sync", p.s.whenText(lastSync(st))))
	p.Models.SetText(p.s.modelsText(st))
	p.Camera.SetText(p.s.cameraText(st.Camera))
	if cameraRetryable(st.Camera) {
		p.CamRetry.Show()
	} else {
		p.CamRetry.Hide()
	}
	p.Clock.SetText(p.s.clockText(st))
	if st.SyncHalted == nil {
		p.Halt.SetText("")
		p.Halt.Hide()
		return
	}
	p.Halt.SetText(tx.T("ui.home.sync_halted", tx.Err(st.SyncHalted)))
	p.Halt.Show()
}

func (p *HomeScreen) view() fyne.CanvasObject {
	tx := p.s.tx
	status := widget.NewCard(tx.T("ui.home.status"), "", container.NewVBox(
		p.Halt, p.Queue, p.Online, p.LastSync, p.Models, p.Camera, container.NewHBox(p.CamRetry), p.Clock))
	big := func(b *widget.Button, hint string) fyne.CanvasObject {
		return container.NewBorder(nil, widget.NewLabelWithStyle(hint, fyne.TextAlignCenter, fyne.TextStyle{}), nil, nil,
			container.NewGridWrap(fyne.NewSize(380, 150), b))
	}
	actions := container.NewCenter(container.NewVBox(p.Notice, container.NewHBox(
		big(p.Activate, tx.T("ui.home.activate_hint")),
		big(p.Deactivate, tx.T("ui.home.deactivate_hint")))))
	more := []fyne.CanvasObject{touchSized(p.Sync), touchSized(p.Stats), touchSized(p.Settings)}
	if p.Demo != nil {
		more = append(more, touchSized(p.Demo))
	}
	return container.NewBorder(nil, container.NewCenter(container.NewHBox(more...)),
		container.NewPadded(container.New(atLeast{fyne.NewSize(homeStatusWidth, 0)}, status)), nil, actions)
}

func (p *HomeScreen) stop() {}

// homeStatusWidth leaves the two big actions (2×380) room beside the status on a 1366 px screen.
const homeStatusWidth = 440
