package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestBenchFaceQuick(t *testing.T) {
	shared := faceVerifyShared(t)
	code, out, errOut := runFaceCmd(t, "bench", "face", "--quick", "--models", filepath.Join(shared, "models"))
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := regexp.MustCompile(`^face-bench frame-to-verdict-ms \d+\.\d stages-sum-ms \d+\.\d search-200k-ms \d+\.\d rss-mb \d+$`)
	if !last.MatchString(lines[len(lines)-1]) {
		t.Fatalf("last line %q", lines[len(lines)-1])
	}
}

func TestBenchFaceBadInput(t *testing.T) {
	code, _, errOut := runFaceCmd(t, "bench", "face", "--photo", "/nonexistent.jpg", "--models", t.TempDir())
	if code != 2 || !strings.Contains(errOut, "benchmark photo") {
		t.Fatalf("exit %d stderr %q", code, errOut)
	}
	code, _, errOut = runFaceCmd(t, "bench", "face", "extra")
	if code != 2 || !strings.Contains(errOut, "unexpected arguments") {
		t.Fatalf("exit %d stderr %q", code, errOut)
	}
}
