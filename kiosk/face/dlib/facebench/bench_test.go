package facebench

import (
	"bytes"
	"context"
	"image/jpeg"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/internal/shareddata"
)

// TestRunQuick checks the benchmark's plumbing and output format, not its numbers.
func TestRunQuick(t *testing.T) {
	shared := shareddata.Require(t)
	f, err := os.Open(shareddata.Require(t, "testdata", "faces", "nayoung", "1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	photo, err := jpeg.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Options{
		ModelDir: filepath.Join(shared, "models"), Photo: photo, Iterations: 2, References: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := strings.Fields(lines[len(lines)-1])
	if len(last) != 9 || last[0] != "face-bench" || last[1] != "frame-to-verdict-ms" || last[3] != "stages-sum-ms" || last[5] != "search-200k-ms" || last[7] != "rss-mb" {
		t.Fatalf("last line %q", lines[len(lines)-1])
	}
	for _, i := range []int{2, 4, 6, 8} {
		if v, err := strconv.ParseFloat(last[i], 64); err != nil || v <= 0 {
			t.Fatalf("value %q in %q", last[i], lines[len(lines)-1])
		}
	}
	for _, name := range []string{"detect-hog-640x480", "detect-hog-1280x720", "landmarks", "descriptor", "frame-to-verdict-1280x720", "search-1:N-1000"} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("no %s row in\n%s", name, out.String())
		}
	}
}
