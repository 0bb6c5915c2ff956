package clock

import "time"

// monoClock counts with the monotonic reading Go keeps in every time.Now (CLOCK_MONOTONIC on
// Linux). That count stops while the machine is suspended.
type monoClock struct{ start time.Time }

func (m monoClock) Read() Reading {
	now := time.Now()
	return Reading{Wall: now.Round(0), Elapsed: now.Sub(m.start)}
}
