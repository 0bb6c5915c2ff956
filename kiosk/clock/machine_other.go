//go:build !linux

package clock

import "time"

// System returns the PC's clocks: the wall clock and Go's monotonic reading, which stops while
// the machine is suspended.
func System() Machine { return monoClock{start: time.Now()} }
