package app

import (
	"os"
	"runtime/debug"
)

// GoMemoryLimit is the kiosk's soft limit on the Go runtime's memory. With 200,000 residents
// both 1:N indexes hold about 165 MB of heap and the models' C++ memory lies outside it;
// without a limit the collector lets the heap grow to twice what is live while an index is
// built, and the process peaked at 501 MB against its 400 MB goal (345–373 MB with a limit of
// 200–230 MiB; BENCHMARKS.md, "Templates in the snapshot").
const GoMemoryLimit = 224 << 20

// LimitMemory sets GoMemoryLimit, unless the GOMEMLIMIT environment variable sets a limit.
func LimitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(GoMemoryLimit)
	}
}
