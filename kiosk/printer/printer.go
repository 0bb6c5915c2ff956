// Package printer sends a PDF to a CUPS print queue with lp(1). It is the kiosk's only print
// adapter: the receipt package makes the bytes, this package hands them to CUPS, and every
// failure comes back as a *kiosk.Error the officer can act on.
package printer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"regexp"
	"strings"

	"github.com/ikd-field/ikd/kiosk"
)

// Errors Print returns; the cause (lp's own words) is wrapped for the log.
var (
	ErrNoLP = &kiosk.Error{Code: "printer.no_lp", Msg: kiosk.Message{
		ID: "Program cetak (lp dari CUPS) tidak terpasang di kiosk ini; hubungi petugas TI.",
		EN: "The print program (lp, from CUPS) is not installed on this kiosk; call IT support."}}
	ErrCUPSDown = &kiosk.Error{Code: "printer.cups_down", Msg: kiosk.Message{
		ID: "Layanan printer (CUPS) tidak berjalan; nyalakan ulang kiosk atau hubungi petugas TI.",
		EN: "The print service (CUPS) is not running; restart the kiosk or call IT support."}}
	ErrNoQueue = &kiosk.Error{Code: "printer.no_queue", Msg: kiosk.Message{
		ID: "Printer yang diatur tidak ada di CUPS; periksa nama printer di pengaturan kiosk.",
		EN: "The configured printer does not exist in CUPS; check the printer name in the kiosk settings."}}
	ErrNotAccepting = &kiosk.Error{Code: "printer.not_accepting", Msg: kiosk.Message{
		ID: "Printer sedang tidak menerima cetakan (dihentikan di CUPS); hubungi petugas TI.",
		EN: "The printer is not accepting jobs (stopped in CUPS); call IT support."}}
	ErrPrintFailed = &kiosk.Error{Code: "printer.failed", Msg: kiosk.Message{
		ID: "Tanda terima gagal dicetak; periksa printer atau hubungi petugas TI.",
		EN: "The receipt could not be printed; check the printer or call IT support."}}
)

// CUPS prints to one CUPS queue.
type CUPS struct {
	Queue string
	// LP is the lp program; empty means "lp" on PATH. LPStat likewise for lpstat, which is
	// asked whether the scheduler runs when lp cannot find the queue (lp says the same then).
	LP, LPStat string
	// Env, when not nil, is the programs' environment (tests point CUPS_SERVER elsewhere).
	Env []string
}

var jobID = regexp.MustCompile(`request id is (\S+)`)

// validQueue is what lpadmin accepts for a printer name: printable, no space, '/' or '#'.
var validQueue = regexp.MustCompile(`^[!-~]+$`)

// Print sends pdf to the queue under title (the job's name, which CUPS-PDF uses for the
// file name) and returns the CUPS job id, e.g. "PDF-12".
func (c CUPS) Print(ctx context.Context, pdf []byte, title string) (string, error) {
	if !validQueue.MatchString(c.Queue) || strings.ContainsAny(c.Queue, "/#") {
		return "", ErrNoQueue.With(fmt.Errorf("invalid queue name %q", c.Queue))
	}
	// "--" ends the options, so nothing after it is read as one.
	out, err := c.run(ctx, pdf, c.prog(c.LP, "lp"), "-d", c.Queue, "-t", title, "--", "-")
	if err != nil {
		return "", c.explain(ctx, err, out)
	}
	m := jobID.FindSubmatch(out)
	if m == nil {
		return "", ErrPrintFailed.With(fmt.Errorf("lp -d %s: no job id in %q", c.Queue, out))
	}
	return string(m[1]), nil
}

func (c CUPS) prog(set, def string) string {
	if set != "" {
		return set
	}
	return def
}

func (c CUPS) run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	if c.Env != nil {
		cmd.Env = c.Env
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// explain turns lp's failure into the reason the officer can act on.
func (c CUPS) explain(ctx context.Context, err error, out []byte) error {
	msg := strings.TrimSpace(string(out))
	cause := fmt.Errorf("lp -d %s: %w: %s", c.Queue, err, msg)
	switch {
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return ErrNoLP.With(err)
	case ctx.Err() != nil:
		return ErrPrintFailed.With(fmt.Errorf("lp -d %s: %w", c.Queue, ctx.Err()))
	case strings.Contains(msg, "not accepting jobs"):
		return ErrNotAccepting.With(cause)
	case strings.Contains(msg, "Scheduler not responding"), strings.Contains(msg, "Unable to connect"):
		return ErrCUPSDown.With(cause)
	case strings.Contains(msg, "does not exist"), strings.Contains(msg, "Unknown destination"):
		// lp says the same when no scheduler answers at all: ask it.
		if st, _ := c.run(ctx, nil, c.prog(c.LPStat, "lpstat"), "-r"); !bytes.Contains(st, []byte("scheduler is running")) {
			return ErrCUPSDown.With(cause)
		}
		return ErrNoQueue.With(cause)
	}
	return ErrPrintFailed.With(cause)
}
