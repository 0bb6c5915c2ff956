package ui

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// SyncScreen is the sync panel: counts per state, last success and error, a sync button,
// the records the registry rejected with its reason, and the activations and code re-issues
// with the registry's answer, where an acknowledged activation's code can be re-sent (the
// citizen's code expired or was burned by wrong guesses).
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
	Codes    *widget.List
	codes    []kiosk.OutboxRecord
	Notice   *widget.Label
	Error    *widget.Label
	// Progress says a manual sync runs (neutral); Outcome answers it in words when it ends.
	Progress *widget.Label
	Outcome  *widget.Label
}

// codeRow is one row of the Codes list.
type codeRow struct {
	Label   *widget.Label
	Reissue *widget.Button
	obj     fyne.CanvasObject
}

func newSyncScreen(s *Shell) *SyncScreen {
	p := &SyncScreen{s: s, Counts: wrapped(""), Online: widget.NewLabel(""), Success: wrapped(""),
		LastErr: errLabel(), Error: errLabel(), Notice: wrapped(""), Progress: wrapped(""), Outcome: wrapped("")}
	p.SyncNow = s.bigButton("ui.sync.now", p.syncRound)
	p.Back = s.button("ui.common.back", s.showHome)
	p.Rejected = widget.NewList(func() int { return len(p.rejected) },
		func() fyne.CanvasObject { return wrapped("") },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(p.rejected) {
				r := p.rejected[i]
				o.(*widget.Label).SetText(s.tx.T("ui.sync.rejected_item", r.ID, s.kindWords(r.Kind), s.registryReason(r.Answer)))
			}
		})
	rows := map[fyne.CanvasObject]*codeRow{}
	p.Codes = widget.NewList(func() int { return len(p.codes) },
		func() fyne.CanvasObject {
			r := &codeRow{Label: wrapped("")}
			r.Reissue = s.button("ui.sync.reissue", func() {})
			r.obj = container.NewBorder(nil, nil, nil, r.Reissue, r.Label)
			rows[r.obj] = r
			return r.obj
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			r := rows[o]
			if r == nil || i >= len(p.codes) {
				return
			}
			rec := p.codes[i]
			r.Label.SetText(s.tx.T("ui.sync.code_item", s.kindWords(rec.Kind), maskNIK(rec.NIK), rec.RegistrationID,
				s.stateWords(rec.State), s.registryReason(rec.Answer)))
			if p.canReissue(rec) {
				r.Reissue.OnTapped = func() { s.touch(); p.reissue(rec) }
				r.Reissue.Show()
			} else {
				r.Reissue.Hide()
			}
			fitRow(p.Codes, i, o)
		})
	p.refresh()
	return p
}

// fitRow gives list row i the height its wrapped text needs at the list's width: a list
// otherwise gives every row the template's height, and a long answer runs into the next row.
func fitRow(l *widget.List, i widget.ListItemID, o fyne.CanvasObject) {
	if w := l.Size().Width; w > 0 {
		o.Resize(fyne.NewSize(w, o.MinSize().Height))
		l.SetItemHeight(i, o.MinSize().Height)
	}
}

// canReissue: only the code of an activation the registry accepted can be re-sent; a
// rejected one never had a code.
func (p *SyncScreen) canReissue(rec kiosk.OutboxRecord) bool {
	return rec.Kind == kiosk.KindActivation && rec.State == kiosk.RecordAcknowledged && rec.RegistrationID != ""
}

// reissue queues a code re-issue for rec's registration; the registry's answer shows in the
// list after the next sync.
func (p *SyncScreen) reissue(rec kiosk.OutboxRecord) {
	sess := p.s.sess
	if sess == nil {
		return
	}
	p.Error.SetText("")
	p.Notice.SetText("")
	p.s.async(func() error {
		_, err := sess.ReissueCode(context.Background(), rec.RegistrationID, rec.NIK)
		return err
	}, func(err error) {
		if err != nil {
			p.Error.SetText(p.s.tx.Err(err))
			return
		}
		p.Notice.SetText(p.s.tx.T("ui.sync.reissue_queued", maskNIK(rec.NIK)))
		p.refresh()
	})
}

func (s *Shell) kindWords(k kiosk.RecordKind) string {
	switch k {
	case kiosk.KindActivation:
		return s.tx.T("ui.stats.activation")
	case kiosk.KindDeactivation:
		return s.tx.T("ui.stats.deactivation")
	case kiosk.KindCodeReissue:
		return s.tx.T("ui.sync.kind_reissue")
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
	all, err := p.s.sess.Records(context.Background(), "", 100)
	if err != nil {
		p.Error.SetText(tx.Err(fmt.Errorf("sync panel records: %w", err)))
		return
	}
	p.codes = p.codes[:0]
	for _, r := range all {
		if r.Kind == kiosk.KindActivation || r.Kind == kiosk.KindCodeReissue {
			p.codes = append(p.codes, r)
		}
	}
	p.Codes.Refresh()
}

// manualSyncTimeout bounds a manual round: a link slow enough to need longer is answered as a
// failure, and the engine's own rounds go on.
const manualSyncTimeout = 2 * time.Minute

// syncRound runs one round for the officer and answers it in words: what was sent and taken,
// or why it failed (not enrolled, registry unreachable, a refusal).
func (p *SyncScreen) syncRound() {
	tx := p.s.tx
	p.SyncNow.Disable()
	p.Outcome.SetText("")
	p.Outcome.Importance = widget.MediumImportance
	p.Progress.SetText(tx.T("ui.sync.started"))
	var r ikdsync.RoundResult
	p.s.async(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), manualSyncTimeout)
		defer cancel()
		var err error
		r, err = p.s.k.SyncRound(ctx)
		return err
	}, func(err error) {
		p.SyncNow.Enable()
		p.Progress.SetText("")
		if err != nil {
			p.s.log.Warn("manual sync", "sync", "failed", "err", err)
			p.Outcome.Importance = widget.DangerImportance
			p.Outcome.SetText(tx.T("ui.sync.failed", tx.Err(err)))
		} else {
			p.s.log.Info("manual sync", "sync", "done", "sent", r.Push.Sent, "acknowledged", r.Push.Acknowledged, "rejected", r.Push.Rejected)
			c := r.Pull.Counts
			p.Outcome.Importance = widget.SuccessImportance
			p.Outcome.SetText(tx.T("ui.sync.done", r.Push.Sent, r.Push.Acknowledged, r.Push.Rejected,
				c.ResidentsAdded+c.ResidentsUpdated+c.ResidentsRemoved, c.OfficersUpdated, c.Keys))
		}
		p.Outcome.Refresh()
		p.refresh()
	})
}

func (p *SyncScreen) back() { p.s.showHome() }

func (p *SyncScreen) view() fyne.CanvasObject {
	tx := p.s.tx
	top := container.NewVBox(heading(tx.T("ui.sync.title")), p.Counts, p.Online, p.Success, p.LastErr,
		container.NewHBox(touchSized(p.SyncNow), touchSized(p.Back)), p.Progress, p.Outcome, p.Error, p.Notice)
	bold := func(key string) *widget.Label {
		return widget.NewLabelWithStyle(tx.T(key), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	lists := container.NewGridWithRows(2,
		container.NewBorder(bold("ui.sync.rejected"), nil, nil, nil, p.Rejected),
		container.NewBorder(bold("ui.sync.codes"), nil, nil, nil, p.Codes))
	return container.NewPadded(container.NewBorder(top, nil, nil, nil, lists))
}

func (p *SyncScreen) stop() {}
