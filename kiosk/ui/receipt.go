package ui

import (
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/software"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
)

// ReceiptScreen is what the citizen takes away: the reference, where the code will be sent,
// and the record's queue state, which follows the sync engine live.
type ReceiptScreen struct {
	s     *Shell
	r     app.Receipt
	Title *widget.Label
	Lines *widget.Label
	Mail  *widget.Label
	State *widget.Label
	Print *widget.Button
	Done  *widget.Button
	Saved *widget.Label
	state kiosk.RecordState
}

func newReceiptScreen(s *Shell, r app.Receipt) *ReceiptScreen {
	p := &ReceiptScreen{s: s, r: r, Saved: wrapped(""), State: heading("")}
	tx := s.tx
	if r.Purpose == kiosk.PurposeDeactivation {
		p.Title = heading(tx.T("ui.receipt.title_deactivation"))
		p.Mail = wrapped("")
	} else {
		p.Title = heading(tx.T("ui.receipt.title_activation"))
		p.Mail = heading("")
	}
	p.Lines = wrapped(tx.T("ui.receipt.lines", r.RecordID, r.Name, maskNIK(r.NIK),
		r.At.Local().Format("02-01-2006 15:04"), r.KioskID, r.OfficerID))
	p.Print = s.bigButton("ui.receipt.print", p.print)
	p.Done = s.button("ui.receipt.done", s.showHome)
	p.refresh()
	return p
}

// maskNIK keeps the region and the serial's last digits, enough to recognise one's own.
func maskNIK(n kiosk.NIK) string {
	if len(n) != 16 {
		return string(n)
	}
	return string(n[:6]) + "******" + string(n[12:])
}

// refresh looks the record up in the outbox; it is cheap (one indexed read).
func (p *ReceiptScreen) refresh() {
	if p.s.sess == nil {
		return
	}
	recs, err := p.s.sess.Records(context.Background(), "", 200)
	if err != nil {
		p.State.SetText(p.s.tx.Err(err))
		return
	}
	p.state = kiosk.RecordPending
	answer := ""
	for _, rec := range recs {
		if rec.ID == p.r.RecordID {
			p.state, answer = rec.State, rec.Answer
		}
	}
	p.Mail.SetText(p.mailWords())
	if p.state == kiosk.RecordRejected {
		p.State.SetText(p.s.tx.T("ui.receipt.state_rejected", p.s.registryReason(answer)))
		return
	}
	p.State.SetText(p.s.stateWords(p.state))
}

// mailWords says what happens to the citizen's code (or lost phone) in step with the record:
// to be sent after sync, sent, or not sent at all.
func (p *ReceiptScreen) mailWords() string {
	tx, deact := p.s.tx, p.r.Purpose == kiosk.PurposeDeactivation
	switch {
	case p.state == kiosk.RecordAcknowledged && deact:
		return tx.T("ui.receipt.deactivated_done")
	case p.state == kiosk.RecordAcknowledged:
		return tx.T("ui.receipt.mail_sent", p.r.MaskedEmail)
	case p.state == kiosk.RecordRejected && deact:
		return tx.T("ui.receipt.deactivated_refused")
	case p.state == kiosk.RecordRejected:
		return tx.T("ui.receipt.mail_refused")
	case deact:
		return tx.T("ui.receipt.deactivated")
	}
	return tx.T("ui.receipt.mail", p.r.MaskedEmail)
}

func (s *Shell) stateWords(st kiosk.RecordState) string {
	switch st {
	case kiosk.RecordSent:
		return s.tx.T("ui.state.sent")
	case kiosk.RecordAcknowledged:
		return s.tx.T("ui.state.acknowledged")
	case kiosk.RecordRejected:
		return s.tx.T("ui.state.rejected")
	}
	return s.tx.T("ui.state.pending")
}

// card is the printable part of the receipt.
func (p *ReceiptScreen) card() fyne.CanvasObject {
	return container.NewVBox(p.Title, p.Lines, p.Mail, p.State)
}

// print renders the receipt with fyne's software painter (no window needed) to a PNG file.
func (p *ReceiptScreen) print() {
	path, err := p.savePNG()
	if err != nil {
		p.Saved.SetText(p.s.tx.T("ui.receipt.print_failed", p.s.tx.Err(err)))
		return
	}
	p.Saved.SetText(p.s.tx.T("ui.receipt.printed", path))
}

func (p *ReceiptScreen) savePNG() (string, error) {
	page := container.NewStack(canvas.NewRectangle(theme.Color(theme.ColorNameBackground)),
		container.NewPadded(p.card()))
	page.Resize(fyne.NewSize(640, page.MinSize().Height+40))
	img := software.Render(page, fyne.CurrentApp().Settings().Theme())
	if err := os.MkdirAll(p.s.opt.OutDir, 0o700); err != nil {
		return "", fmt.Errorf("receipt dir: %w", err)
	}
	path := filepath.Join(p.s.opt.OutDir, "receipt-"+p.r.RecordID+".png")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("receipt file: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return "", fmt.Errorf("receipt png: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("receipt file: %w", err)
	}
	return path, nil
}

func (p *ReceiptScreen) back() { p.s.showHome() }

func (p *ReceiptScreen) view() fyne.CanvasObject {
	return container.NewCenter(container.NewGridWrap(fyne.NewSize(760, 520), container.NewVBox(
		p.card(), widget.NewSeparator(),
		container.NewHBox(touchSized(p.Print), touchSized(p.Done)), p.Saved)))
}

func (p *ReceiptScreen) stop() {}
