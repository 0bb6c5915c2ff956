package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk"
)

// DataAge shows how old the kiosk's residents, keys and revocations are, in words, and what
// the stale-data policy (kiosk.StalePolicy, judged in the core) allows now. It only shows:
// the workflow enforces the verdict.
type DataAge struct {
	s      *Shell
	Ages   *widget.Label
	Policy *widget.Label // hidden while the data is fresh
	root   *fyne.Container
}

func newDataAge(s *Shell) *DataAge {
	d := &DataAge{s: s, Ages: wrapped(""), Policy: wrapped("")}
	d.root = container.NewVBox(d.Ages, d.Policy)
	d.refresh()
	return d
}

func (d *DataAge) refresh() {
	st := d.s.k.Status()
	tx := d.s.tx
	word := func(at time.Time) string { return kiosk.AgeWords(at, st.Now, tx.Lang()) }
	d.Ages.SetText(tx.T("ui.data.ages", word(st.Data.Residents), word(st.Data.Keys), word(st.Data.Revocations)))
	d.Policy.Importance = widget.WarningImportance
	switch st.Stale.Level {
	case kiosk.StaleWarn:
		d.Policy.SetText(tx.T("ui.data.warn"))
	case kiosk.StaleSupervisor:
		d.Policy.SetText(tx.Err(kiosk.ErrStaleSupervisor))
	case kiosk.StaleBlocked:
		d.Policy.Importance = widget.DangerImportance
		d.Policy.SetText(tx.Err(kiosk.ErrStaleBlocked))
	default:
		d.Policy.SetText("")
		d.Policy.Hide()
		return
	}
	d.Policy.Show()
}

func (d *DataAge) view() fyne.CanvasObject { return d.root }

// lostNote is the review's line saying when the NIK was reported lost (a registration made
// after it, for the new phone, may still be activated); nil when it never was.
func (s *Shell) lostNote(r kiosk.Resident) fyne.CanvasObject {
	at := r.Revocations.DeactivatedAt
	if at.IsZero() {
		return container.NewVBox()
	}
	l := wrapped(s.tx.T("ui.review.reported_lost", at.Local().Format("02-01-2006 15:04")))
	l.Importance = widget.WarningImportance
	return l
}

// reviewData is what the review shows of the data behind it: when the NIK was reported
// lost, and how old the kiosk's data is.
func (s *Shell) reviewData(r kiosk.Resident) fyne.CanvasObject {
	return container.NewVBox(s.lostNote(r), newDataAge(s).view())
}

// staleNeedsSupervisor: an activation on data older than the policy's supervisor limit goes
// through a supervisor's PIN; the core refuses it otherwise (kiosk.ErrStaleSupervisor).
func (s *Shell) staleNeedsSupervisor(purpose kiosk.Purpose) bool {
	return purpose == kiosk.PurposeActivation && s.k.Status().Stale.Level == kiosk.StaleSupervisor
}
