package ui

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/ikd-field/ikd/kiosk/app"
)

// WriteStatsCSV writes a day's statistics for the Dinas: one row per visit with its step
// timings in seconds, then the summary rows. Column names are English and stable so that a
// spreadsheet built on them keeps working whatever the UI language.
func WriteStatsCSV(w io.Writer, d app.DailySummary) error {
	cw := csv.NewWriter(w)
	secs := func(x time.Duration) string { return strconv.FormatFloat(x.Seconds(), 'f', 1, 64) }
	rows := [][]string{{"time", "purpose", "outcome", "scan_s", "resident_s", "face_s", "decision_s", "total_s"}}
	for _, v := range d.Visits {
		t := v.Timings
		rows = append(rows, []string{v.At.Local().Format(time.RFC3339), string(v.Purpose), v.Outcome,
			secs(t.Scan), secs(t.Resident), secs(t.Face), secs(t.Decision), secs(t.Total)})
	}
	day := d.Day.Format("2006-01-02")
	rows = append(rows, []string{},
		[]string{"summary", day, "served", strconv.Itoa(d.Served)},
		[]string{"summary", day, "activated", strconv.Itoa(d.Activated)},
		[]string{"summary", day, "deactivated", strconv.Itoa(d.Deactivated)},
		[]string{"summary", day, "abandoned", strconv.Itoa(d.Abandoned)},
		[]string{"summary", day, "median_visit_s", secs(d.MedianVisit)},
		[]string{"summary", day, "p90_visit_s", secs(d.P90Visit)})
	reasons := make([]string, 0, len(d.RejectedBy))
	for r := range d.RejectedBy {
		reasons = append(reasons, string(r))
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		rows = append(rows, []string{"summary", day, "rejected:" + r, strconv.Itoa(d.RejectedBy[app.RejectReason(r)])})
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("stats csv: %w", err)
	}
	return nil
}
