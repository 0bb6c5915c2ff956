package clock

import (
	"sync"
	"testing"
	"time"
)

// fakeMachine is a PC whose wall clock can be set like an administrator would, independently
// of the monotonic count.
type fakeMachine struct {
	mu      sync.Mutex
	wall    time.Time
	elapsed time.Duration
}

var _ Machine = (*fakeMachine)(nil)

func (f *fakeMachine) Read() Reading {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Reading{Wall: f.wall, Elapsed: f.elapsed}
}

// advance lets d pass: both clocks move.
func (f *fakeMachine) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.wall, f.elapsed = f.wall.Add(d), f.elapsed+d
}

// setWall moves only the wall clock, as a person or a CMOS reset does.
func (f *fakeMachine) setWall(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.wall = t
}

var (
	registryTime = time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	// The PC's wall clock starts 3 minutes behind the registry.
	pcTime = registryTime.Add(-3 * time.Minute)
)

func newMachine() *fakeMachine {
	return &fakeMachine{wall: pcTime, elapsed: 42 * time.Hour}
}

func TestUnanchoredClockIsTheWallClock(t *testing.T) {
	m := newMachine()
	c := New(m)
	if got := c.Now(); !got.Equal(pcTime) {
		t.Fatalf("Now = %v, want the wall clock %v", got, pcTime)
	}
	if c.Status() != Unanchored || c.Skew() != 0 || c.WallClockDisagrees(time.Second) {
		t.Fatalf("unanchored clock: status %v skew %v", c.Status(), c.Skew())
	}
	if _, ok := c.Save(); ok {
		t.Fatal("an unanchored clock has an anchor to save")
	}
}

func TestAnchoredClockFollowsRegistryTime(t *testing.T) {
	m := newMachine()
	c := New(m)
	c.Anchor(registryTime)
	m.advance(90 * time.Second)
	if got, want := c.Now(), registryTime.Add(90*time.Second); !got.Equal(want) {
		t.Fatalf("Now = %v, want %v", got, want)
	}
	if c.Status() != Synced {
		t.Fatalf("status %v, want synced", c.Status())
	}
	if got := c.Skew(); got != 3*time.Minute {
		t.Fatalf("Skew = %v, want 3m (wall clock behind)", got)
	}
}

func TestWallClockChangesDoNotMoveTheClock(t *testing.T) {
	tests := []struct {
		name     string
		wall     time.Time
		wantSkew time.Duration
	}{
		{"CMOSResetTo2000", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), registryTime.Add(10 * time.Minute).Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))},
		{"SetAYearAhead", registryTime.AddDate(1, 0, 0), registryTime.Add(10 * time.Minute).Sub(registryTime.AddDate(1, 0, 0))},
		{"WrongTimeZoneSevenHours", registryTime.Add(10*time.Minute + 7*time.Hour), -7 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMachine()
			c := New(m)
			c.Anchor(registryTime)
			m.advance(10 * time.Minute)
			m.setWall(tt.wall)
			if got, want := c.Now(), registryTime.Add(10*time.Minute); !got.Equal(want) {
				t.Fatalf("Now = %v, want %v", got, want)
			}
			if got := c.Skew(); got != tt.wantSkew {
				t.Fatalf("Skew = %v, want %v", got, tt.wantSkew)
			}
			if !c.WallClockDisagrees(5 * time.Minute) {
				t.Fatal("WallClockDisagrees = false after the wall clock was moved")
			}
		})
	}
}

func TestWallClockDisagreesThreshold(t *testing.T) {
	m := newMachine() // wall 3 minutes behind
	c := New(m)
	c.Anchor(registryTime)
	if c.WallClockDisagrees(5 * time.Minute) {
		t.Error("3 minutes off reported as disagreeing at a 5-minute threshold")
	}
	if !c.WallClockDisagrees(2 * time.Minute) {
		t.Error("3 minutes off not reported at a 2-minute threshold")
	}
	m.setWall(registryTime.Add(3 * time.Minute)) // now 3 minutes ahead
	if !c.WallClockDisagrees(2 * time.Minute) {
		t.Error("a wall clock ahead is not reported")
	}
}

func TestReanchorAtNextSync(t *testing.T) {
	m := newMachine()
	c := New(m)
	c.Anchor(registryTime)
	m.advance(time.Hour)
	later := registryTime.Add(time.Hour + 2*time.Second) // the monotonic count drifted 2 s
	c.Anchor(later)
	m.advance(time.Minute)
	if got, want := c.Now(), later.Add(time.Minute); !got.Equal(want) {
		t.Fatalf("Now = %v, want %v", got, want)
	}
}

func TestSaveAndRestoreAcrossRestart(t *testing.T) {
	m := newMachine()
	c := New(m)
	c.Anchor(registryTime)
	m.advance(20 * time.Minute)
	a, ok := c.Save()
	if !ok {
		t.Fatal("nothing to save after an anchor")
	}

	t.Run("PoweredOffOneHour", func(t *testing.T) {
		m2 := &fakeMachine{wall: a.Wall.Add(time.Hour), elapsed: 5 * time.Second} // new boot
		r := Restore(a, m2)
		if got, want := r.Now(), registryTime.Add(20*time.Minute+time.Hour); !got.Equal(want) {
			t.Fatalf("Now = %v, want %v", got, want)
		}
		if r.Status() != Restored {
			t.Fatalf("status %v, want restored", r.Status())
		}
		m2.advance(time.Minute)
		m2.setWall(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)) // moved after start: no effect
		if got, want := r.Now(), registryTime.Add(20*time.Minute+time.Hour+time.Minute); !got.Equal(want) {
			t.Fatalf("after a wall change: Now = %v, want %v", got, want)
		}
	})
	t.Run("WallClockSetBackWhileOff", func(t *testing.T) {
		m2 := &fakeMachine{wall: a.Wall.AddDate(-1, 0, 0)}
		r := Restore(a, m2)
		if got := r.Now(); !got.Equal(a.Registry) {
			t.Fatalf("Now = %v, want the saved registry time %v, not earlier", got, a.Registry)
		}
		if !r.WallClockDisagrees(time.Hour) {
			t.Fatal("a wall clock a year behind is not reported")
		}
	})
	t.Run("SyncAfterRestore", func(t *testing.T) {
		m2 := &fakeMachine{wall: a.Wall}
		r := Restore(a, m2)
		r.Anchor(registryTime.Add(2 * time.Hour))
		if r.Status() != Synced || !r.Now().Equal(registryTime.Add(2*time.Hour)) {
			t.Fatalf("status %v now %v after a sync", r.Status(), r.Now())
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	m := newMachine()
	c := New(m)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 200 {
				switch (i + j) % 4 {
				case 0:
					c.Anchor(registryTime.Add(time.Duration(j) * time.Second))
				case 1:
					m.advance(time.Millisecond)
				default:
					_ = c.Now()
					_ = c.WallClockDisagrees(time.Minute)
				}
			}
		})
	}
	wg.Wait()
}

func TestSystemMachine(t *testing.T) {
	m := System()
	a := m.Read()
	b := m.Read()
	if b.Elapsed < a.Elapsed {
		t.Fatalf("monotonic count went back: %v then %v", a.Elapsed, b.Elapsed)
	}
	if a.Wall.IsZero() || a.Wall != a.Wall.Round(0) {
		t.Fatalf("wall reading %v is zero or carries a monotonic reading", a.Wall)
	}
}
