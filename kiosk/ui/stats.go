package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
)

// StatsScreen is the counter's statistics of today (supervisor only): the summary and each
// visit's step timings, exportable as CSV.
type StatsScreen struct {
	s       *Shell
	Summary *widget.Label
	Visits  *widget.Table
	Export  *widget.Button
	Back    *widget.Button
	Saved   *widget.Label
	day     app.DailySummary
}

func newStatsScreen(s *Shell) *StatsScreen {
	p := &StatsScreen{s: s, Summary: wrapped(""), Saved: wrapped("")}
	p.Export = s.bigButton("ui.stats.export", p.export)
	p.Back = s.button("ui.common.back", s.showHome)
	p.Visits = widget.NewTable(func() (int, int) { return len(p.day.Visits) + 1, 8 },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, o fyne.CanvasObject) { o.(*widget.Label).SetText(p.cell(id)) })
	for col, w := range []float32{110, 170, 300, 90, 90, 90, 110, 90} {
		p.Visits.SetColumnWidth(col, w)
	}
	d, err := s.sess.Stats(context.Background(), s.opt.Now())
	if err != nil {
		p.Summary.SetText(s.tx.Err(err))
		return p
	}
	p.day = d
	p.Summary.SetText(p.summaryText())
	return p
}

func (p *StatsScreen) summaryText() string {
	d := p.day
	var rejected []string
	for r, n := range d.RejectedBy {
		rejected = append(rejected, fmt.Sprintf("%s %d", p.s.reasonName(r), n))
	}
	sort.Strings(rejected)
	if len(rejected) == 0 {
		rejected = []string{"0"}
	}
	return p.s.tx.T("ui.stats.summary", d.Day.Format("02-01-2006"), d.Served, d.Activated, d.Deactivated,
		strings.Join(rejected, ", "), d.Abandoned, seconds(d.MedianVisit), seconds(d.P90Visit))
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.0f s", d.Seconds()) }

func (s *Shell) reasonName(r app.RejectReason) string {
	for _, x := range rejectReasons {
		if x.reason == r {
			return s.tx.T(x.key)
		}
	}
	return string(r)
}

func (p *StatsScreen) cell(id widget.TableCellID) string {
	if id.Row == 0 {
		return p.s.tx.T([]string{"ui.stats.col_time", "ui.stats.col_purpose", "ui.stats.col_outcome",
			"ui.stats.col_scan", "ui.stats.col_resident", "ui.stats.col_face", "ui.stats.col_decision", "ui.stats.col_total"}[id.Col])
	}
	v := p.day.Visits[id.Row-1]
	switch id.Col {
	case 0:
		return v.At.Local().Format("15:04:05")
	case 1:
		if v.Purpose == kiosk.PurposeDeactivation {
			return p.s.tx.T("ui.stats.deactivation")
		}
		return p.s.tx.T("ui.stats.activation")
	case 2:
		return p.s.outcomeWords(v.Outcome)
	case 3:
		return seconds(v.Timings.Scan)
	case 4:
		return seconds(v.Timings.Resident)
	case 5:
		return seconds(v.Timings.Face)
	case 6:
		return seconds(v.Timings.Decision)
	}
	return seconds(v.Timings.Total)
}

// outcomeWords reads the core's outcome codes ("approved", "rejected:<reason>", "abandoned").
func (s *Shell) outcomeWords(o string) string {
	switch {
	case o == "approved":
		return s.tx.T("ui.stats.approved")
	case o == "abandoned":
		return s.tx.T("ui.stats.abandoned")
	case strings.HasPrefix(o, "rejected:"):
		return s.tx.T("ui.stats.rejected", s.reasonName(app.RejectReason(strings.TrimPrefix(o, "rejected:"))))
	}
	return o
}

// errExportFailed: the statistics file could not be written.
var errExportFailed = &kiosk.Error{Code: "stats.export_failed", Msg: kiosk.Message{
	ID: "folder keluaran tidak dapat ditulis; periksa folder dan ruang disk, atau hubungi petugas TI.",
	EN: "the output folder cannot be written; check the folder and the disk space, or contact IT support."}}

func (p *StatsScreen) export() {
	path, err := p.writeCSV()
	if err != nil {
		p.s.log.Warn("statistics export failed", "err", err)
		p.Saved.SetText(p.s.tx.T("ui.stats.export_failed", p.s.tx.Err(errExportFailed.With(err))))
		return
	}
	p.Saved.SetText(p.s.tx.T("ui.stats.exported", path))
}

func (p *StatsScreen) writeCSV() (string, error) {
	if err := os.MkdirAll(p.s.opt.OutDir, 0o700); err != nil {
		return "", fmt.Errorf("export dir: %w", err)
	}
	path := filepath.Join(p.s.opt.OutDir, "statistik-"+p.day.Day.Format("2006-01-02")+".csv")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("export file: %w", err)
	}
	if err := WriteStatsCSV(f, p.day); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("export file: %w", err)
	}
	return path, nil
}

func (p *StatsScreen) back() { p.s.showHome() }

func (p *StatsScreen) view() fyne.CanvasObject {
	top := container.NewVBox(heading(p.s.tx.T("ui.stats.title")), p.Summary,
		container.NewHBox(touchSized(p.Export), touchSized(p.Back)), p.Saved)
	return container.NewPadded(container.NewBorder(top, nil, nil, nil, p.Visits))
}

func (p *StatsScreen) stop() {}
