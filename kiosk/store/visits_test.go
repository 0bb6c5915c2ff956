package store

import (
	"context"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// Visit statistics survive a reopen and are read by time range.
func TestVisitStatsByDay(t *testing.T) {
	ctx := context.Background()
	s, path := mustCreate(t, Options{})
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i, v := range []VisitStat{
		{At: day.Add(-time.Minute), Purpose: kiosk.PurposeActivation, Outcome: "approved", All: time.Minute},
		{At: day.Add(9 * time.Hour), Purpose: kiosk.PurposeActivation, Outcome: "approved",
			Scan: 2 * time.Second, Resident: time.Second, Face: 9 * time.Second, Decision: 4 * time.Second, All: 16 * time.Second},
		{At: day.Add(10 * time.Hour), Purpose: kiosk.PurposeDeactivation, Outcome: "rejected:document", All: time.Minute},
	} {
		if err := s.AddVisitStat(ctx, v); err != nil {
			t.Fatalf("visit %d: %v", i, err)
		}
	}
	s.Close()
	s = mustOpen(t, path, Options{})
	got, err := s.VisitStats(ctx, day, day.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Face != 9*time.Second || got[0].All != 16*time.Second || got[1].Outcome != "rejected:document" {
		t.Fatalf("visits of the day: %+v", got)
	}
}
