package app

import (
	"slices"
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
