package clock

import (
	"time"

	"golang.org/x/sys/unix"
)

// System returns the PC's clocks. On Linux the monotonic count is CLOCK_BOOTTIME which, unlike
// Go's own monotonic reading (CLOCK_MONOTONIC), keeps counting while a laptop is suspended: a
// van's laptop that slept overnight must not wake up hours in the past. Kernels without it
// (before 2.6.39) get Go's monotonic reading.
func System() Machine {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		return monoClock{start: time.Now()}
	}
	return bootClock{}
}

type bootClock struct{}

func (bootClock) Read() Reading {
	var ts unix.Timespec
	// Cannot fail: System checked that the clock exists, and &ts is valid memory.
	_ = unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	return Reading{Wall: time.Now().Round(0), Elapsed: time.Duration(ts.Nano())}
}
