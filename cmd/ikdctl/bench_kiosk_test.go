package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/internal/slowtest"
)

var benchKioskLastLine = regexp.MustCompile(`^kiosk-bench preview-fps \d+\.\d cold-start-s \d+\.\d{2} rss-mb \d+ ` +
	`visit-s \d+\.\d{2} \(scan \d+\.\d{2} resident \d+\.\d{2} face \d+\.\d{2} decision \d+\.\d{2}\)$`)

// TestSlowBenchKioskQuick runs `bench kiosk` at a tiny size without models and checks the
// table's shape; no timing is asserted.
func TestSlowBenchKioskQuick(t *testing.T) {
	slowtest.Skip(t, "runs the whole kiosk benchmark")
	code, stdout, stderr := runCmd(t, "bench", "kiosk", "--quick", "--models", "none")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if last := lines[len(lines)-1]; !benchKioskLastLine.MatchString(last) {
		t.Errorf("last line %q does not match %v", last, benchKioskLastLine)
	}
	for _, want := range []string{"preview subscriber", "face analysis off", "window start-up", "not measured",
		"in-process app.Open", "VmRSS", "demo visit QR → approved: face (ms)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestBenchKioskBadInput(t *testing.T) {
	code, _, stderr := runCmd(t, "bench", "kiosk", "extra")
	if code != 2 || !strings.Contains(stderr, "unexpected arguments") {
		t.Fatalf("exit %d stderr %q", code, stderr)
	}
}
