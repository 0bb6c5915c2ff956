package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/internal/slowtest"
	"github.com/ikd-field/ikd/kiosk/qr/qrbench"
)

var benchQRLastLine = regexp.MustCompile(`^qr-bench ours-success (0|1)\.\d{3} best-peer-success (0|1)\.\d{3} nocode-ms \d+\.\d{2} plain-gozxing-nocode-ms \d+\.\d{2}$`)

var benchQRRealLine = regexp.MustCompile(`\nqr-bench-real ours \d+/\d+ zxing-cpp (\d+|-) zbar (\d+|-) plain-gozxing \d+\n\nqr-bench ours-success `)

// checkBenchQROutput checks the table's shape: every decoder, every condition, the summary line.
func checkBenchQROutput(t *testing.T, stdout string, peerRows []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if last := lines[len(lines)-1]; !benchQRLastLine.MatchString(last) {
		t.Errorf("last line %q does not match %v", last, benchQRLastLine)
	}
	if !strings.Contains(stdout, "\nreal photos: skipped: ") && !benchQRRealLine.MatchString(stdout) {
		t.Errorf("no qr-bench-real line before the last line:\n%s", stdout)
	}
	for _, want := range append([]string{`\nours +1280x720 `, `\ngozxing-plain +640x480 `, "INCLUDE process start-up"}, peerRows...) {
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	for _, c := range qrbench.Conditions() {
		if !strings.Contains(stdout, "\n"+c.Name+" ") {
			t.Errorf("no success row for condition %s", c.Name)
		}
	}
}

func TestSlowBenchQRQuickWithoutPeers(t *testing.T) {
	slowtest.Skip(t, "long pixel run: build/test.sh runs it in the pass without -race")
	t.Setenv("PATH", t.TempDir()) // neither zbarimg nor ZXingReader can be found
	// The real photos are covered by kiosk/qr's TestSlowRealPhotos and qrbench; here they would
	// only cost minutes under the race detector.
	code, stdout, stderr := runCmd(t, "bench", "qr", "--quick", "--photos", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkBenchQROutput(t, stdout, []string{`\nzbar +not installed`, `\nzxing-cpp +not installed`})
	if !strings.Contains(stdout, "best-peer-success 0.000") {
		t.Errorf("missing peers counted as successful:\n%s", stdout)
	}
}

func TestSlowBenchQRQuickWithPeers(t *testing.T) {
	slowtest.Skip(t, "runs zbarimg and ZXingReader once per frame")
	for _, cmd := range []string{"zbarimg", "ZXingReader"} {
		if _, err := exec.LookPath(cmd); err != nil {
			t.Skipf("%s not installed (Debian: zbar-tools, zxing-cpp-tools)", cmd)
		}
	}
	code, stdout, stderr := runCmd(t, "bench", "qr", "--quick", "--photos", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkBenchQROutput(t, stdout, []string{`\nzbar +1280x720 `, `\nzxing-cpp +640x480 `})
}

func TestBenchQRUsage(t *testing.T) {
	for name, args := range map[string][]string{
		"ExtraArgument": {"bench", "qr", "extra"},
		"ZeroFrames":    {"bench", "qr", "--frames", "0"},
		"UnknownFlag":   {"bench", "qr", "--bogus"},
	} {
		t.Run(name, func(t *testing.T) {
			if code, _, _ := runCmd(t, args...); code != 2 {
				t.Fatalf("exit %d, want 2", code)
			}
		})
	}
}
