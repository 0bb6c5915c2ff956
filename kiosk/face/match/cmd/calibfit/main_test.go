package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/internal/slowtest"
	"github.com/ikd-field/ikd/kiosk/face/facetest"
	"github.com/ikd-field/ikd/kiosk/face/match"
)

func TestSlowCalibfit(t *testing.T) {
	slowtest.Skip(t, "long numeric run: build/test.sh runs it in the pass without -race")
	t.Run("WritesAParsableAsset", func(t *testing.T) {
		in := facetest.WriteDescriptorFile(t, 40, 6)
		out := filepath.Join(t.TempDir(), "face.json")
		var stdout, stderr bytes.Buffer
		if err := run([]string{"-descriptors", in, "-out", out, "-date", "2026-01-02"}, &stdout, &stderr); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		c, err := match.ParseCalibration(b)
		if err != nil {
			t.Fatal(err)
		}
		p := c.Provenance
		if p.Fitted != "2026-01-02" || p.People != 40 || p.Faces != 240 || len(p.SourceSHA256) != 64 || p.CV.Genuine == 0 {
			t.Fatalf("provenance %+v", p)
		}
		if !strings.Contains(stdout.String(), "match <") {
			t.Fatalf("summary %q", stdout.String())
		}
	})
	t.Run("MissingOut", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if err := run([]string{"-descriptors", "x.json"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "-out") {
			t.Fatalf("error %v", err)
		}
	})
}
