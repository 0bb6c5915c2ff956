package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk/face/match"
)

func writeDescriptors(t *testing.T, people, faces int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 1))
	var idols, entries []string
	for p := range people {
		idols = append(idols, fmt.Sprintf(`{"id": "p%d"}`, p))
		var centre [match.Dim]float64
		for i := range centre {
			centre[i] = 0.1 * rng.NormFloat64()
		}
		for range faces {
			var d match.Descriptor
			for i := range d {
				d[i] = float32(centre[i] + 0.03*rng.NormFloat64())
			}
			b, _ := d.AppendBinary(nil)
			entries = append(entries, fmt.Sprintf(`{"idol_id": "p%d", "descriptor": %q}`, p, base64.StdEncoding.EncodeToString(b)))
		}
	}
	path := filepath.Join(t.TempDir(), "d.json")
	if err := os.WriteFile(path, []byte(`{"idols": [`+strings.Join(idols, ",")+`], "faces": [`+strings.Join(entries, ",")+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCalibfit(t *testing.T) {
	if testing.Short() {
		t.Skip("long numeric run: build/test.sh runs it in the pass without -race")
	}
	t.Run("WritesAParsableAsset", func(t *testing.T) {
		in := writeDescriptors(t, 40, 6)
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
