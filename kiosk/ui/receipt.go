package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/receipt"
)

// ReceiptScreen is what the citizen takes away: the reference, where the code will be sent,
// and the record's queue state, which follows the sync engine live.
type ReceiptScreen struct {
	s     *Shell
	r     app.Receipt
	Title *widget.Label
	Ref   *widget.Label // the short reference, large: the officer reads it aloud
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
	p.Ref = heading(tx.T("ui.receipt.ref", kiosk.ShortRef(r.RecordID)))
	p.Lines = wrapped(tx.T("ui.receipt.lines", r.Name, r.NIK.Masked(),
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

// card is the receipt as the officer sees it on the screen.
func (p *ReceiptScreen) card() fyne.CanvasObject {
	return container.NewVBox(p.Title, p.Ref, p.Lines, p.Mail, p.State)
}

// Printer prints a receipt PDF; printer.CUPS is the kiosk's (lp to a CUPS queue).
type Printer interface {
	Print(ctx context.Context, pdf []byte, title string) (job string, err error)
}

// print renders the paper receipt of the record in its current state (the same bytes as
// `ikdctl receipt`) and prints it on the configured printer; with no printer configured, or
// when printing fails, it keeps the PDF in the kiosk's receipt folder and says so.
func (p *ReceiptScreen) print() {
	sess, tx, ref := p.s.sess, p.s.tx, kiosk.ShortRef(p.r.RecordID)
	if sess == nil {
		return
	}
	p.Print.Disable()
	p.Saved.SetText(tx.T("ui.receipt.printing"))
	p.s.goAsync(func() {
		msg := p.printNow(sess, ref)
		fyne.Do(func() {
			p.Print.Enable()
			p.Saved.SetText(msg)
		})
	})
}

// printNow does the slow part off the UI goroutine and returns the words to show.
func (p *ReceiptScreen) printNow(sess app.Session, ref string) string {
	tx := p.s.tx
	ctx, cancel := context.WithTimeout(context.Background(), printTimeout)
	defer cancel()
	paper, err := sess.PaperReceipt(ctx, p.r.RecordID)
	if err != nil {
		return tx.T("ui.receipt.print_failed", tx.Err(err))
	}
	pdf, err := receipt.PDF(paper)
	if err != nil {
		return tx.T("ui.receipt.print_failed", tx.Err(err))
	}
	var printErr error
	if pr := p.s.opt.Printer; pr != nil {
		job, err := pr.Print(ctx, pdf, "IKD-"+ref)
		if err == nil {
			p.s.log.Info("receipt printed", "record", p.r.RecordID, "ref", ref, "job", job)
			return tx.T("ui.receipt.printed", p.s.opt.PrinterName)
		}
		printErr = err
		p.s.log.Warn("receipt not printed", "record", p.r.RecordID, "err", err)
	}
	name, err := p.save(pdf, ref)
	switch {
	case err != nil && printErr != nil:
		return tx.T("ui.receipt.print_failed", tx.Err(printErr))
	case err != nil:
		return tx.T("ui.receipt.save_failed", tx.Err(err))
	case printErr != nil:
		return tx.T("ui.receipt.print_failed_saved", tx.Err(printErr), name)
	}
	return tx.T("ui.receipt.saved", name)
}

// printTimeout bounds one print: lp hands the job to the local scheduler and returns.
const printTimeout = 30 * time.Second

// save keeps the PDF in the receipt folder of the data directory under a name the officer
// can read out (the folder itself is not shown: it means nothing at the counter).
func (p *ReceiptScreen) save(pdf []byte, ref string) (string, error) {
	if err := os.MkdirAll(p.s.opt.OutDir, 0o700); err != nil {
		return "", fmt.Errorf("receipt dir: %w", err)
	}
	name := receipt.FileName(ref)
	if err := os.WriteFile(filepath.Join(p.s.opt.OutDir, name), pdf, 0o600); err != nil {
		return "", fmt.Errorf("receipt file: %w", err)
	}
	return name, nil
}

func (p *ReceiptScreen) back() { p.s.showHome() }

func (p *ReceiptScreen) view() fyne.CanvasObject {
	return container.NewCenter(container.NewGridWrap(fyne.NewSize(760, 520), container.NewVBox(
		p.card(), widget.NewSeparator(),
		container.NewHBox(touchSized(p.Print), touchSized(p.Done)), p.Saved)))
}

func (p *ReceiptScreen) stop() {}
