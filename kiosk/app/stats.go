package app

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store"
)

// summarize makes the day's summary from its visits.
func summarize(day time.Time, vs []store.VisitStat) DailySummary {
	s := DailySummary{Day: day, RejectedBy: map[RejectReason]int{}}
	var totals []time.Duration
	for _, v := range vs {
		t := Timings{Scan: v.Scan, Resident: v.Resident, Face: v.Face, Decision: v.Decision, Total: v.All}
		s.Visits = append(s.Visits, VisitStat{At: v.At, Purpose: v.Purpose, Outcome: v.Outcome, Timings: t})
		s.Served++
		totals = append(totals, v.All)
		switch {
		case v.Outcome == "approved" && v.Purpose == kiosk.PurposeActivation:
			s.Activated++
		case v.Outcome == "approved":
			s.Deactivated++
		case v.Outcome == "abandoned":
			s.Abandoned++
		case strings.HasPrefix(v.Outcome, "rejected:"):
			s.RejectedBy[RejectReason(strings.TrimPrefix(v.Outcome, "rejected:"))]++
		}
	}
	s.MedianVisit, s.P90Visit = percentile(totals, 50), percentile(totals, 90)
	return s
}

// percentile is the nearest-rank percentile p of ds; 0 for none.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100 // ceil(p/100 · n), 1-based
	return s[max(rank, 1)-1]
}

// WriteCSV writes the day's summary for the Dinas: one row of totals (served, activated,
// deactivated, abandoned, rejected per reason, median and p90 seconds per visit), a blank
// line, then one row per visit with its step times in seconds.
func WriteCSV(w io.Writer, s DailySummary) error {
	cw := csv.NewWriter(w)
	secs := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) }
	head := []string{"day", "served", "activated", "deactivated", "abandoned"}
	row := []string{s.Day.Format("2006-01-02"), strconv.Itoa(s.Served), strconv.Itoa(s.Activated),
		strconv.Itoa(s.Deactivated), strconv.Itoa(s.Abandoned)}
	for _, r := range RejectReasons {
		head = append(head, "rejected_"+string(r))
		row = append(row, strconv.Itoa(s.RejectedBy[r]))
	}
	head = append(head, "median_visit_s", "p90_visit_s")
	row = append(row, secs(s.MedianVisit), secs(s.P90Visit))
	recs := [][]string{head, row, {}, {"time", "purpose", "outcome", "scan_s", "resident_s", "face_s", "decision_s", "total_s"}}
	for _, v := range s.Visits {
		t := v.Timings
		recs = append(recs, []string{v.At.Format(time.RFC3339), string(v.Purpose), v.Outcome,
			secs(t.Scan), secs(t.Resident), secs(t.Face), secs(t.Decision), secs(t.Total)})
	}
	for _, r := range recs {
		if err := cw.Write(r); err != nil {
			return fmt.Errorf("statistics CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("statistics CSV: %w", err)
	}
	return nil
}
