package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/internal/shareddata"

	"github.com/ikd-field/ikd/kiosk/face/match"
)

func runFaceEval(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"face", "eval"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// writeDescriptorFile writes a small labelled descriptor file: people × faces, each face a
// person's centre plus noise.
func writeDescriptorFile(t *testing.T, people, faces int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	var idols, entries []string
	for p := range people {
		id := fmt.Sprintf("person-%d", p)
		idols = append(idols, fmt.Sprintf(`{"id": %q, "name": "P%d", "band_name": "T"}`, id, p))
		var centre [match.Dim]float64
		for i := range centre {
			centre[i] = 0.12 * rng.NormFloat64()
		}
		for range faces {
			var d match.Descriptor
			for i := range d {
				d[i] = float32(centre[i] + 0.04*rng.NormFloat64())
			}
			b, _ := d.AppendBinary(nil)
			entries = append(entries, fmt.Sprintf(`{"idol_id": %q, "descriptor": %q}`, id, base64.StdEncoding.EncodeToString(b)))
		}
	}
	path := filepath.Join(t.TempDir(), "descriptors.json")
	body := fmt.Sprintf(`{"idols": [%s], "faces": [%s]}`, strings.Join(idols, ","), strings.Join(entries, ","))
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var lastLine = regexp.MustCompile(`\ndefault-match-threshold ([0-9.]+) fmr ([0-9.]+) fnmr ([0-9.]+)\n$`)

func TestFaceEval(t *testing.T) {
	t.Run("SyntheticFile", func(t *testing.T) {
		code, out, stderr := runFaceEval(t, "--descriptors", writeDescriptorFile(t, 6, 3))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		// 6 people × C(3,2) genuine pairs; C(18,2) − 18 impostor pairs.
		if !strings.Contains(out, "pairs genuine 18 impostor 135\n") {
			t.Errorf("pair counts missing:\n%s", out)
		}
		if !strings.Contains(out, "not the calibration's source file") {
			t.Errorf("a foreign file must not be called in-sample:\n%s", out)
		}
		if strings.Count(out, "  0.65 ") != 2 {
			t.Errorf("want the 0.30..0.65 grid for raw and calibrated scores:\n%s", out)
		}
		if !lastLine.MatchString(out) {
			t.Errorf("last line does not match %v:\n%s", lastLine, out)
		}
	})
	t.Run("CrossValidation", func(t *testing.T) {
		code, out, stderr := runFaceEval(t, "--cv", "--descriptors", writeDescriptorFile(t, 12, 4))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		// Every genuine pair is held out once per repeat: 4 repeats × 12 × C(4,2).
		if !strings.Contains(out, "people-disjoint CV on this file (recipe refitted per fold, 5 folds x 4 repeats, 288 genuine") {
			t.Errorf("cross-validation line missing:\n%s", out)
		}
		if !lastLine.MatchString(out) {
			t.Errorf("last line does not match %v:\n%s", lastLine, out)
		}
	})
	t.Run("TooFewPeopleForCrossValidation", func(t *testing.T) {
		code, _, stderr := runFaceEval(t, "--cv", "--descriptors", writeDescriptorFile(t, 4, 3))
		if code != 1 || !strings.Contains(stderr, "too few") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("MissingFlag", func(t *testing.T) {
		code, _, stderr := runFaceEval(t)
		if code != 2 || !strings.Contains(stderr, "--descriptors") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("MissingFile", func(t *testing.T) {
		code, _, stderr := runFaceEval(t, "--descriptors", filepath.Join(t.TempDir(), "absent.json"))
		if code != 1 || !strings.Contains(stderr, "absent.json") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("CorruptFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "bad.json")
		if err := os.WriteFile(path, []byte(`{"idols": [{"id": "a"}], "faces": [{"idol_id": "b", "descriptor": ""}]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runFaceEval(t, "--descriptors", path)
		if code != 1 || !strings.Contains(stderr, "faces[0]") || !strings.Contains(stderr, "idol_id is not in idols") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
}

// TestFaceEvalSharedFile runs the command on idols-dev.json: the raw baseline must match the
// shared README, the run must say it is in-sample, and the last line must carry the shipped
// default threshold with its rates.
func TestFaceEvalSharedFile(t *testing.T) {
	path := faceEvalSharedFile(t)
	code, out, stderr := runFaceEval(t, "--descriptors", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"pairs genuine 3682 impostor 350379\n",
		"FMR 0.001 reached at t=0.320 (FMR 0.000999, FNMR 0.8789)",
		"IN-SAMPLE",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	m := lastLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("last line does not match %v:\n%s", lastLine, out)
	}
	cal, err := match.Default()
	if err != nil {
		t.Fatal(err)
	}
	th, _ := strconv.ParseFloat(m[1], 64)
	fmr, _ := strconv.ParseFloat(m[2], 64)
	fnmr, _ := strconv.ParseFloat(m[3], 64)
	if math.Abs(th-float64(cal.Thresholds.Match)) > 5e-4 {
		t.Errorf("threshold %v, shipped %v", th, cal.Thresholds.Match)
	}
	if fmr > 1e-3 || fnmr >= 0.879 {
		t.Errorf("at the shipped threshold FMR %v FNMR %v: no better than raw distance at FMR 1e-3", fmr, fnmr)
	}
}

func faceEvalSharedFile(t *testing.T) string {
	t.Helper()
	return shareddata.Require(t, "testdata", "descriptors", "idols-dev.json")
}
