package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// SyncScreen is the sync panel: counts per state, last success and error, a sync button,
// and the records the registry rejected with its reason.
type SyncScreen struct {
	s        *Shell
	Counts   *widget.Label
	Online   *widget.Label
	Success  *widget.Label
	LastErr  *widget.Label
	SyncNow  *widget.Button
	Back     *widget.Button
	Rejected *widget.List
	rejected []kiosk.OutboxRecord
	Error    *widget.Label
}

func newSyncScreen(s *Shell) *SyncScreen {
	p := &SyncScreen{s: s, Counts: wrapped(""), Online: widget.NewLabel(""), Success: wrapped(""),
		LastErr: errLabel(), Error: errLabel()}
	p.SyncNow = s.bigButton("ui.sync.now", func() {
		s.k.SyncNow()
		p.LastErr.SetText(s.tx.T("ui.sync.started"))
	})
	p.Back = s.button("ui.common.back", s.showHome)
	p.Rejected = widget.NewList(func() int { return len(p.rejected) },
		func() fyne.CanvasObject { return wrapped("") },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(p.rejected) {
				r := p.rejected[i]
				o.(*widget.Label).SetText(s.tx.T("ui.sync.rejected_item", r.ID, s.kindWords(r.Kind), s.registryReason(r.Answer)))
			}
		})
	p.refresh()
	return p
}

func (s *Shell) kindWords(k kiosk.RecordKind) string {
	switch k {
	case kiosk.KindActivation:
		return s.tx.T("ui.stats.activation")
	case kiosk.KindDeactivation:
		return s.tx.T("ui.stats.deactivation")
	}
	return string(k)
}

// registryReason turns the registry's answer (a code when it is one) into the officer's words.
func (s *Shell) registryReason(answer string) string {
	for _, e := range ikdsync.Codes {
		if e.Code == answer {
			return s.tx.Err(e)
		}
	}
	if answer == "" {
		return "—"
	}
	return answer
}

func (p *SyncScreen) refresh() {
	st := p.s.k.Status()
	tx := p.s.tx
	p.Counts.SetText(tx.T("ui.sync.counts", st.Counts[kiosk.RecordPending], st.Counts[kiosk.RecordSent],
		st.Counts[kiosk.RecordAcknowledged], st.Counts[kiosk.RecordRejected]))
	p.Online.SetText(p.s.onlineText(st))
	p.Success.SetText(tx.T("ui.sync.success", p.s.whenText(st.PushSuccess), p.s.whenText(st.PullSuccess)))
	switch {
	case st.PushError != nil:
		p.LastErr.SetText(tx.T("ui.sync.last_error", tx.Err(st.PushError)))
	case st.PullError != nil:
		p.LastErr.SetText(tx.T("ui.sync.last_error", tx.Err(st.PullError)))
	default:
		p.LastErr.SetText("")
	}
	if p.s.sess == nil {
		return
	}
	recs, err := p.s.sess.Records(context.Background(), kiosk.RecordRejected, 100)
	if err != nil {
		p.Error.SetText(tx.Err(fmt.Errorf("sync panel records: %w", err)))
		return
	}
	p.rejected = recs
	p.Rejected.Refresh()
}

func (p *SyncScreen) back() { p.s.showHome() }

func (p *SyncScreen) view() fyne.CanvasObject {
	tx := p.s.tx
	top := container.NewVBox(heading(tx.T("ui.sync.title")), p.Counts, p.Online, p.Success, p.LastErr,
		container.NewHBox(touchSized(p.SyncNow), touchSized(p.Back)), p.Error,
		widget.NewLabelWithStyle(tx.T("ui.sync.rejected"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	return container.NewPadded(container.NewBorder(top, nil, nil, nil, p.Rejected))
}

func (p *SyncScreen) stop() {}
