package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

func TestLimitsSurviveReopenAndRefuseEdits(t *testing.T) {
	ctx := context.Background()
	s, path := mustCreate(t, testOptions())
	if l, err := s.Limits(ctx); err != nil || l != (Limits{}) {
		t.Fatalf("before any setting: %+v %v", l, err)
	}
	day := 24 * time.Hour
	want := Limits{Stale: kiosk.StalePolicy{WarnAfter: 2 * day, SupervisorAfter: 5 * day, StopAfter: 20 * day}, Retention: 14 * day}
	if err := s.SetLimits(ctx, want); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err := Open(ctx, path, []byte(testSecret), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if l, err := s.Limits(ctx); err != nil || l != want {
		t.Fatalf("after reopen: %+v %v, want %+v", l, err, want)
	}
	s.Close()

	// The stop lifted by someone without the unlock secret: the last byte of the stop limit
	// changes.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE meta SET value = CAST(substr(value, 1, 55) || X'FF' || substr(value, 57) AS BLOB)
		WHERE key = 'limits'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = Open(ctx, path, []byte(testSecret), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if l, err := s.Limits(ctx); !errors.Is(err, ErrTampered) || l != (Limits{}) {
		t.Fatalf("edited limits: %+v %v, want ErrTampered", l, err)
	}
	rep, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range rep.Tables {
		if tr.Table == "limits" && len(tr.Bad) == 1 {
			return
		}
	}
	t.Fatalf("store verify did not report the limits: %+v", rep.Tables)
}
