// Package clock gives the kiosk a time that a wrong PC clock cannot move (DESIGN.md §4).
//
// Token expiry is checked against this clock, not the PC's wall clock: a counter PC with a
// flat CMOS battery, a wrong time zone setting or a hand-set date would otherwise accept
// expired QR codes or refuse fresh ones. The Clock is anchored to the registry's time at each
// sync and advances from there on a monotonic count that setting the wall clock does not
// touch. The wall clock is only compared against it, so the UI can warn the officer.
package clock

import (
	"sync"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// Reading is one reading of the PC's clocks.
type Reading struct {
	// Wall is the PC's wall clock, which an administrator, NTP or a flat CMOS battery can move.
	Wall time.Time
	// Elapsed is a monotonic count from an arbitrary origin that only moves forward.
	Elapsed time.Duration
}

// Machine reads the PC's clocks; System returns the real one, tests use a fake.
type Machine interface {
	Read() Reading
}

// Status says where the Clock's time comes from.
type Status int

const (
	// Unanchored: no sync yet; Now is the PC's wall clock and cannot be checked.
	Unanchored Status = iota
	// Restored: anchored at a sync before the kiosk last started; the time since that sync is
	// taken from the wall clock (a monotonic count does not survive a restart), so a wall
	// clock moved while the kiosk was off goes unnoticed until the next sync.
	Restored
	// Synced: anchored at a sync since the kiosk started; fully monotonic.
	Synced
)

func (s Status) String() string {
	switch s {
	case Unanchored:
		return "unanchored"
	case Restored:
		return "restored"
	case Synced:
		return "synced"
	}
	return "unknown"
}

// Anchor is what the kiosk persists to keep its time across restarts: the registry's time
// and the PC's wall clock at the same instant.
type Anchor struct {
	Registry time.Time
	Wall     time.Time
}

// Clock is the kiosk's registry-anchored time. It implements kiosk.Clock and is safe for
// concurrent use.
type Clock struct {
	m Machine

	mu        sync.Mutex
	status    Status
	registry  time.Time     // registry time at the anchor
	elapsedAt time.Duration // the machine's monotonic count at the anchor
}

var _ kiosk.Clock = (*Clock)(nil)

// New returns an unanchored Clock: it reports the wall clock until the first Anchor.
func New(m Machine) *Clock { return &Clock{m: m} }

// Restore returns a Clock anchored by a persisted Anchor. The time since the anchor is the
// wall clock's elapsed time; if the wall clock now reads earlier than when the anchor was
// saved, it was set back, and the Clock resumes at the anchor's registry time rather than
// going back with it.
func Restore(a Anchor, m Machine) *Clock {
	r := m.Read()
	since := max(r.Wall.Sub(a.Wall), 0)
	return &Clock{m: m, status: Restored, registry: a.Registry.Add(since), elapsedAt: r.Elapsed}
}

// Anchor sets the clock to registryTime, the registry's time seen at a sync. Its error is
// about half the round trip of the request that carried it.
func (c *Clock) Anchor(registryTime time.Time) {
	r := c.m.Read()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status, c.registry, c.elapsedAt = Synced, registryTime.Round(0), r.Elapsed
}

// Now returns the registry-anchored time, or the wall clock when unanchored.
func (c *Clock) Now() time.Time {
	now, _ := c.now(c.m.Read())
	return now
}

// now returns the anchored time for reading r, and whether there is an anchor.
func (c *Clock) now(r Reading) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status == Unanchored {
		return r.Wall, false
	}
	return c.registry.Add(r.Elapsed - c.elapsedAt), true
}

// Status says where the time comes from.
func (c *Clock) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Skew returns how far the PC's wall clock is behind the anchored time (negative: ahead).
// It is zero when the clock is unanchored.
func (c *Clock) Skew() time.Duration {
	r := c.m.Read()
	now, ok := c.now(r)
	if !ok {
		return 0
	}
	return now.Sub(r.Wall)
}

// WallClockDisagrees reports whether the PC's wall clock is more than threshold off the
// anchored time, so the UI can ask the officer to correct it. Expiry checks stay right either
// way; the warning is for everything else on the PC that uses the wall clock.
func (c *Clock) WallClockDisagrees(threshold time.Duration) bool {
	d := c.Skew()
	return d > threshold || d < -threshold
}

// Save returns the Anchor to persist, taken now so that it carries everything the monotonic
// count has learned since the last sync; ok is false when there is nothing to save.
func (c *Clock) Save() (a Anchor, ok bool) {
	r := c.m.Read()
	now, ok := c.now(r)
	if !ok {
		return Anchor{}, false
	}
	return Anchor{Registry: now, Wall: r.Wall}, true
}
