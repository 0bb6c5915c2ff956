package kiosk_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

const day = 24 * time.Hour

func TestStalePolicyJudge(t *testing.T) {
	p := kiosk.DefaultStalePolicy
	now := testNow
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	all := func(d time.Duration) kiosk.DataAges {
		return kiosk.DataAges{Residents: ago(d), Keys: ago(d), Revocations: ago(d), SetUp: ago(100 * day)}
	}
	cases := []struct {
		name    string
		ages    kiosk.DataAges
		purpose kiosk.Purpose
		level   kiosk.StaleLevel
		oldest  kiosk.DataKind
		age     time.Duration
	}{
		{"fresh", all(time.Hour), kiosk.PurposeActivation, kiosk.StaleFresh, kiosk.DataResidents, time.Hour},
		{"just under warn", all(3*day - time.Second), kiosk.PurposeActivation, kiosk.StaleFresh, kiosk.DataResidents, 3*day - time.Second},
		{"warn at 3 days", all(3 * day), kiosk.PurposeActivation, kiosk.StaleWarn, kiosk.DataResidents, 3 * day},
		{"supervisor at 7 days", all(7 * day), kiosk.PurposeActivation, kiosk.StaleSupervisor, kiosk.DataResidents, 7 * day},
		{"blocked at 30 days", all(30 * day), kiosk.PurposeActivation, kiosk.StaleBlocked, kiosk.DataResidents, 30 * day},
		{"deactivation never blocked", all(90 * day), kiosk.PurposeDeactivation, kiosk.StaleWarn, kiosk.DataResidents, 90 * day},
		{"deactivation fresh", all(day), kiosk.PurposeDeactivation, kiosk.StaleFresh, kiosk.DataResidents, day},
		{"oldest kind decides", kiosk.DataAges{Residents: ago(day), Keys: ago(8 * day), Revocations: ago(2 * day)},
			kiosk.PurposeActivation, kiosk.StaleSupervisor, kiosk.DataKeys, 8 * day},
		{"never pulled counts from set-up", kiosk.DataAges{Residents: ago(day), Keys: ago(day), SetUp: ago(4 * day)},
			kiosk.PurposeActivation, kiosk.StaleWarn, kiosk.DataRevocations, 4 * day},
		{"nothing known is as old as the hard limit", kiosk.DataAges{}, kiosk.PurposeActivation, kiosk.StaleBlocked, kiosk.DataResidents, 30 * day},
		{"clock set back counts as fresh", all(-5 * day), kiosk.PurposeActivation, kiosk.StaleFresh, kiosk.DataResidents, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := p.Judge(c.ages, now, c.purpose)
			if v.Level != c.level || v.Oldest != c.oldest || v.Age != c.age {
				t.Errorf("Judge = %+v, want level %d oldest %s age %v", v, c.level, c.oldest, c.age)
			}
		})
	}
}

func TestStaleVerdictGate(t *testing.T) {
	cases := []struct {
		level      kiosk.StaleLevel
		supervisor bool
		want       error
	}{
		{kiosk.StaleFresh, false, nil},
		{kiosk.StaleWarn, false, nil},
		{kiosk.StaleSupervisor, false, kiosk.ErrStaleSupervisor},
		{kiosk.StaleSupervisor, true, nil},
		{kiosk.StaleBlocked, false, kiosk.ErrStaleBlocked},
		{kiosk.StaleBlocked, true, kiosk.ErrStaleBlocked},
	}
	for _, c := range cases {
		err := kiosk.StaleVerdict{Level: c.level, Oldest: kiosk.DataKeys, Age: 10 * day}.Gate(c.supervisor)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("level %d supervisor %t: %v, want %v", c.level, c.supervisor, err, c.want)
		}
	}
}

func TestStalePolicyValid(t *testing.T) {
	if err := kiosk.DefaultStalePolicy.Valid(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []kiosk.StalePolicy{{}, {WarnAfter: day, SupervisorAfter: time.Hour, StopAfter: 2 * day},
		{WarnAfter: day, SupervisorAfter: 2 * day, StopAfter: day}} {
		if p.Valid() == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}

func TestAgeWords(t *testing.T) {
	cases := []struct {
		ago    time.Duration
		id, en string
	}{
		{10 * time.Minute, "kurang dari 1 jam", "less than an hour"},
		{time.Hour, "1 jam", "1 hour"},
		{47 * time.Hour, "47 jam", "47 hours"},
		{2 * day, "2 hari", "2 days"},
		{45 * day, "45 hari", "45 days"},
	}
	for _, c := range cases {
		at := testNow.Add(-c.ago)
		if got := kiosk.AgeWords(at, testNow, kiosk.LangID); got != c.id {
			t.Errorf("%v id: %q, want %q", c.ago, got, c.id)
		}
		if got := kiosk.AgeWords(at, testNow, kiosk.LangEN); got != c.en {
			t.Errorf("%v en: %q, want %q", c.ago, got, c.en)
		}
	}
	if got := kiosk.AgeWords(time.Time{}, testNow, kiosk.LangID); got != "belum pernah" {
		t.Errorf("never: %q", got)
	}
}

// freshness is a fixed kiosk.Freshness.
type freshness kiosk.DataAges

func (f freshness) DataAges(context.Context) (kiosk.DataAges, error) { return kiosk.DataAges(f), nil }

func agedDeps(h *harness, age time.Duration) kiosk.Deps {
	d := h.deps()
	at := testNow.Add(-age)
	d.Freshness = freshness{Residents: at, Keys: at, Revocations: at, SetUp: at}
	return d
}

func TestStaleGatesActivationNotDeactivation(t *testing.T) {
	ctx := context.Background()
	supervisor := kiosk.Officer{ID: "197001012000011001", Role: kiosk.RoleSupervisor}
	t.Run("blocked at scan", func(t *testing.T) {
		h := newHarness()
		f := kiosk.NewActivation(agedDeps(h, 31*day), officer)
		if err := f.ScanToken(ctx, testToken); !errors.Is(err, kiosk.ErrStaleBlocked) {
			t.Fatalf("scan: %v, want %v", err, kiosk.ErrStaleBlocked)
		}
		if f.State() != kiosk.StateIdle {
			t.Errorf("state %s", f.State())
		}
	})
	t.Run("supervisor PIN needed", func(t *testing.T) {
		h := newHarness()
		f := kiosk.NewActivation(agedDeps(h, 8*day), officer)
		for _, step := range []func() error{
			func() error { return f.ScanToken(ctx, testToken) },
			func() error { return f.FindResident(ctx) },
			func() error { return f.VerifyFace(ctx) },
		} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Approve(ctx, kiosk.Approval{}); !errors.Is(err, kiosk.ErrStaleSupervisor) {
			t.Fatalf("approve without supervisor: %v", err)
		}
		if err := f.Approve(ctx, kiosk.Approval{Supervisor: officer}); !errors.Is(err, kiosk.ErrStaleSupervisor) {
			t.Fatalf("approve with an officer who is no supervisor: %v", err)
		}
		if len(h.outbox.Records) != 0 {
			t.Fatal("a record was queued")
		}
		if err := f.Approve(ctx, kiosk.Approval{Supervisor: supervisor}); err != nil {
			t.Fatalf("approve with supervisor: %v", err)
		}
		ev := h.outbox.Events
		if len(ev) != 1 || !strings.Contains(ev[0].Detail, "stale=residents:192h0m0s supervisor="+supervisor.ID) {
			t.Errorf("audit: %+v", ev)
		}
	})
	t.Run("deactivation never blocked", func(t *testing.T) {
		h := newHarness()
		f := kiosk.NewDeactivation(agedDeps(h, 400*day), officer)
		for _, step := range []func() error{
			func() error { return f.EnterNIK(string(testNIK)) },
			func() error { return f.FindResident(ctx) },
			func() error { return f.VerifyFace(ctx) },
			func() error { return f.Approve(ctx, kiosk.Approval{Reason: "HP hilang"}) },
		} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		if f.State() != kiosk.StateQueued {
			t.Errorf("state %s", f.State())
		}
	})
}
