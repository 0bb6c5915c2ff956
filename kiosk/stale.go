package kiosk

import (
	"fmt"
	"time"
)

// StalePolicy limits what a kiosk whose data has not been updated for a while may do. The
// data are the residents (who may be activated), the registry keys (which QR codes are
// genuine) and the revocations (which QR codes the registry has ended); each is as old as the
// last pull or data stick that brought it. A supervisor sets the limits; DefaultStalePolicy
// holds the safe defaults.
//
// Deactivations are never limited: a citizen whose phone was lost must be able to stop the
// account at any kiosk, however old its data, and a deactivation can only take access away.
type StalePolicy struct {
	WarnAfter       time.Duration // the officer sees a warning
	SupervisorAfter time.Duration // an activation needs a supervisor's PIN
	StopAfter       time.Duration // activations stop until the data is updated
}

// DefaultStalePolicy warns after 3 days, asks for a supervisor after 7 and stops activations
// after 30. Why these numbers: a van or village kiosk visits the kecamatan office (where it
// syncs or swaps a stick) about weekly, so a week-old snapshot is normal field life and a
// warning at 3 days tells the officer early; the risk an old snapshot carries is a QR that
// the registry has since ended (a phone reported lost), and every activation is checked
// again by the registry before any code is sent, so an old snapshot risks a wasted visit,
// not a wrong activation. Beyond a week the supervisor, who knows whether the kiosk is on a
// planned tour, takes responsibility; beyond a month (MOSIP's registration client freezes
// after 5 days without master data, which a village tour easily exceeds) the snapshot no
// longer reflects moves and deaths well enough to approve anyone.
var DefaultStalePolicy = StalePolicy{WarnAfter: 3 * 24 * time.Hour, SupervisorAfter: 7 * 24 * time.Hour, StopAfter: 30 * 24 * time.Hour}

// Valid reports whether the limits are positive and in order.
func (p StalePolicy) Valid() error {
	if p.WarnAfter <= 0 || p.SupervisorAfter < p.WarnAfter || p.StopAfter < p.SupervisorAfter {
		return fmt.Errorf("stale policy: want 0 < warn (%v) <= supervisor (%v) <= stop (%v)", p.WarnAfter, p.SupervisorAfter, p.StopAfter)
	}
	return nil
}

// DataAges are when the kiosk's data was last brought up to date (the registry's time of the
// newest complete pull or stick). A zero time means never: that data counts from SetUp, the
// kiosk's creation, since a kiosk set up today with an imported snapshot is as fresh as its
// set-up.
type DataAges struct {
	Residents   time.Time
	Keys        time.Time
	Revocations time.Time
	SetUp       time.Time
}

// StaleLevel is what the policy allows.
type StaleLevel int

const (
	StaleFresh      StaleLevel = iota // nothing to say
	StaleWarn                         // show a warning; go on
	StaleSupervisor                   // an activation needs a supervisor's PIN
	StaleBlocked                      // no activations; deactivations go on
)

// DataKind names one kind of data the kiosk holds.
type DataKind string

const (
	DataResidents   DataKind = "residents"
	DataKeys        DataKind = "keys"
	DataRevocations DataKind = "revocations"
)

// StaleVerdict is the policy's answer: the level, the oldest kind of data and its age.
type StaleVerdict struct {
	Level  StaleLevel
	Oldest DataKind
	Age    time.Duration
}

// Judge applies the policy to the ages at now for a flow of purpose. It is pure: the UI
// shows its answer and the workflow enforces it. An age in the future (a clock set back)
// counts as zero.
func (p StalePolicy) Judge(a DataAges, now time.Time, purpose Purpose) StaleVerdict {
	v := StaleVerdict{Oldest: DataResidents, Age: -1}
	for _, d := range []struct {
		kind DataKind
		at   time.Time
	}{{DataResidents, a.Residents}, {DataKeys, a.Keys}, {DataRevocations, a.Revocations}} {
		at := d.at
		if at.IsZero() {
			at = a.SetUp
		}
		age := max(now.Sub(at), 0)
		if at.IsZero() {
			age = p.StopAfter // never updated and no set-up time known: as old as the policy allows
		}
		if age > v.Age {
			v.Oldest, v.Age = d.kind, age
		}
	}
	switch {
	case v.Age >= p.StopAfter:
		v.Level = StaleBlocked
	case v.Age >= p.SupervisorAfter:
		v.Level = StaleSupervisor
	case v.Age >= p.WarnAfter:
		v.Level = StaleWarn
	}
	if purpose == PurposeDeactivation && v.Level > StaleWarn {
		v.Level = StaleWarn
	}
	return v
}

// Gate returns the error an activation meets at this verdict, or nil. supervisorPIN says a
// supervisor confirmed with their PIN.
func (v StaleVerdict) Gate(supervisorPIN bool) error {
	cause := fmt.Errorf("%s are %s old", v.Oldest, v.Age.Round(time.Hour))
	switch {
	case v.Level == StaleBlocked:
		return ErrStaleBlocked.With(cause)
	case v.Level == StaleSupervisor && !supervisorPIN:
		return ErrStaleSupervisor.With(cause)
	}
	return nil
}

// AgeWords says an age in words, in lang: "belum pernah", "kurang dari 1 jam", "5 jam",
// "3 hari".
func AgeWords(at, now time.Time, lang Lang) string {
	if at.IsZero() {
		return Message{ID: "belum pernah", EN: "never"}.In(lang)
	}
	d := max(now.Sub(at), 0)
	switch {
	case d < time.Hour:
		return Message{ID: "kurang dari 1 jam", EN: "less than an hour"}.In(lang)
	case d < 48*time.Hour:
		h := int(d / time.Hour)
		return Message{ID: fmt.Sprintf("%d jam", h), EN: plural(h, "hour")}.In(lang)
	default:
		n := int(d / (24 * time.Hour))
		return Message{ID: fmt.Sprintf("%d hari", n), EN: plural(n, "day")}.In(lang)
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
