package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

func TestOfficers(t *testing.T) {
	ctx := context.Background()
	clock := &fixedClock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	opts := testOptions()
	opts.Now = clock.now
	opts.Lockout = kiosk.LockoutPolicy{MaxAttempts: 3, Duration: 10 * time.Minute}
	s, _ := mustCreate(t, opts)
	sup := kiosk.Officer{ID: "sup1", Name: "Budi Santoso", Role: kiosk.RoleSupervisor}
	off := kiosk.Officer{ID: "off1", Name: "Rina Wati", Role: kiosk.RoleOfficer}
	if err := s.AddOfficer(ctx, "", sup, "240817"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddOfficer(ctx, "sup1", off, "583920"); err != nil {
		t.Fatal(err)
	}

	t.Run("List", func(t *testing.T) {
		got, err := s.Officers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0] != off || got[1] != sup {
			t.Errorf("officers = %+v", got)
		}
	})
	t.Run("AddRefused", func(t *testing.T) {
		for _, tc := range []struct {
			o    kiosk.Officer
			pin  string
			want error
		}{
			{off, "739164", ErrOfficerExists},
			{kiosk.Officer{ID: "x", Name: "X", Role: kiosk.RoleOfficer}, "000000", ErrGuessablePIN},
			{kiosk.Officer{ID: "x", Name: "X", Role: kiosk.RoleOfficer}, "123456", ErrGuessablePIN},
			{kiosk.Officer{ID: "x", Name: "X", Role: kiosk.RoleOfficer}, "654321", ErrGuessablePIN},
			{kiosk.Officer{ID: "x", Name: "X", Role: kiosk.RoleOfficer}, "890123", ErrGuessablePIN},
			{kiosk.Officer{ID: "x", Name: "X", Role: kiosk.RoleOfficer}, "121212", ErrGuessablePIN},
			{kiosk.Officer{ID: "x", Name: "X", Role: kiosk.RoleOfficer}, "407407", ErrGuessablePIN},
			{kiosk.Officer{ID: strings.Repeat("9", MaxOfficerIDLen+1), Name: "X", Role: kiosk.RoleOfficer}, "240817", ErrInvalidOfficer},
			{kiosk.Officer{ID: "x", Name: "X", Role: kiosk.RoleOfficer}, "12345", ErrWeakPIN},
			{kiosk.Officer{ID: "x", Name: "X", Role: kiosk.RoleOfficer}, "12345a", ErrWeakPIN},
			{kiosk.Officer{ID: "x", Name: "X", Role: "admin"}, "240817", ErrInvalidOfficer},
			{kiosk.Officer{ID: "", Name: "X", Role: kiosk.RoleOfficer}, "240817", ErrInvalidOfficer},
		} {
			if err := s.AddOfficer(ctx, "sup1", tc.o, tc.pin); !errors.Is(err, tc.want) {
				t.Errorf("%+v pin %q: err = %v, want %v", tc.o, tc.pin, err, tc.want)
			}
		}
	})
	t.Run("LoginOK", func(t *testing.T) {
		o, err := s.Login(ctx, "off1", "583920")
		if err != nil {
			t.Fatal(err)
		}
		if o != off {
			t.Errorf("officer = %+v", o)
		}
	})
	t.Run("UnknownOfficer", func(t *testing.T) {
		if _, err := s.Login(ctx, "ghost", "240817"); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("err = %v, want ErrBadCredentials", err)
		}
	})
	t.Run("LockoutAfterFailures", func(t *testing.T) {
		before := auditLen(t, s)
		for i := 1; i <= 2; i++ {
			_, err := s.Login(ctx, "off1", "000000")
			if !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("attempt %d: err = %v, want ErrBadCredentials", i, err)
			}
			// The officer reads how many tries are left before the lockout.
			want := fmt.Sprintf("sisa %d kali coba", 3-i)
			if msg := kiosk.OfficerMessage(err, kiosk.LangID); !strings.Contains(msg, want) {
				t.Fatalf("attempt %d: message %q, want %q", i, msg, want)
			}
		}
		if _, err := s.Login(ctx, "off1", "000000"); !errors.Is(err, ErrLockedOut) {
			t.Fatalf("attempt 3: err = %v, want ErrLockedOut", err)
		}
		clock.t = clock.t.Add(9 * time.Minute)
		if _, err := s.Login(ctx, "off1", "583920"); !errors.Is(err, ErrLockedOut) {
			t.Fatalf("right PIN while locked: err = %v, want ErrLockedOut", err)
		}
		if got := auditLen(t, s) - before; got != 4 {
			t.Errorf("%d audit entries for 4 attempts", got)
		}
		clock.t = clock.t.Add(2 * time.Minute)
		if _, err := s.Login(ctx, "off1", "583920"); err != nil {
			t.Fatalf("after the lockout: %v", err)
		}
		// A success resets the counter: two more failures do not lock.
		for range 2 {
			s.Login(ctx, "off1", "000000")
		}
		if _, err := s.Login(ctx, "off1", "583920"); err != nil {
			t.Errorf("counter was not reset: %v", err)
		}
	})
	t.Run("LoginAudited", func(t *testing.T) {
		rows, err := s.db.Query("SELECT action, officer_id FROM audit WHERE action LIKE 'officer.login%'")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var actions []string
		for rows.Next() {
			var a, o string
			rows.Scan(&a, &o)
			actions = append(actions, a+":"+o)
		}
		got := strings.Join(actions, " ")
		for _, want := range []string{"officer.login:off1", "officer.login_failed:unknown:", "officer.login_failed:off1", "officer.login_locked:off1"} {
			if !strings.Contains(got, want) {
				t.Errorf("audit lacks %s: %s", want, got)
			}
		}
		if strings.Contains(got, "ghost") {
			t.Errorf("an unknown id is in the audit log in clear: %s", got)
		}
	})
}

func TestDisabledOfficer(t *testing.T) {
	s, _ := mustCreate(t, testOptions())
	o := kiosk.Officer{ID: "off2", Name: "Ani", Role: kiosk.RoleOfficer, Disabled: true}
	if err := s.AddOfficer(context.Background(), "", o, "240817"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(context.Background(), "off2", "240817"); !errors.Is(err, ErrOfficerDisabled) {
		t.Errorf("err = %v, want ErrOfficerDisabled", err)
	}
}
