package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// tiny is a two-tensor model: a quantised [2,3] tensor and a float32 [2] one.
func tiny(t *testing.T) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	manifest := `[{"paths":["m.bin"],"weights":[
	 {"name":"a","shape":[2,3],"dtype":"float32","quantization":{"dtype":"uint8","scale":0.5,"min":-1}},
	 {"name":"b","shape":[2],"dtype":"float32"}]}]`
	bin := []byte{0, 1, 2, 3, 4, 255}
	bin = binary.LittleEndian.AppendUint32(bin, math.Float32bits(1.25))
	bin = binary.LittleEndian.AppendUint32(bin, math.Float32bits(-7))
	if err := os.WriteFile(filepath.Join(dir, "m.json"), []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "m.bin"), bin, 0o600); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "m.json"), bin
}

func floats(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func TestPortnoise(t *testing.T) {
	manifest, _ := tiny(t)
	dequant := []float32{-1, -0.5, 0, 0.5, 1, 126.5}
	for _, tc := range []struct {
		name  string
		width float64
	}{
		{"ZeroWidthIsTheDequantisedModel", 0},
		{"OneStepStaysWithinHalfAStep", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			var stdout, stderr bytes.Buffer
			if err := run([]string{"-manifest", manifest, "-out", out, "-seed", "3", "-scale", strconv.FormatFloat(tc.width, 'g', -1, 64)}, &stdout, &stderr); err != nil {
				t.Fatal(err, stderr.String())
			}
			raw, err := os.ReadFile(filepath.Join(out, "m.json"))
			if err != nil {
				t.Fatal(err)
			}
			var groups []group
			if err := json.Unmarshal(raw, &groups); err != nil {
				t.Fatal(err)
			}
			for _, w := range groups[0].Weights {
				if w.Quant != nil || w.DType != "float32" {
					t.Fatalf("tensor %s still quantised: %+v", w.Name, w)
				}
			}
			bin, err := os.ReadFile(filepath.Join(out, "m.bin"))
			if err != nil {
				t.Fatal(err)
			}
			got := floats(bin)
			if len(got) != 8 {
				t.Fatalf("%d values, want 8", len(got))
			}
			for i, want := range dequant {
				if d := math.Abs(float64(got[i] - want)); d > tc.width*0.5/2 {
					t.Errorf("value %d = %v, more than %v from %v", i, got[i], tc.width*0.25, want)
				}
			}
			if got[6] != 1.25 || got[7] != -7 {
				t.Errorf("float32 tensor changed: %v", got[6:])
			}
		})
	}
	t.Run("SeededAndMovesEveryValue", func(t *testing.T) {
		_, bin := tiny(t)
		ws := []weight{{Name: "a", Shape: []int{6}, DType: "float32", Quant: &quantization{DType: "uint8", Scale: 0.5, Min: -1}}, {Name: "b", Shape: []int{2}, DType: "float32"}}
		a, n, err := perturb(ws, bin, 1, rand.New(rand.NewPCG(1, 0)))
		if err != nil || n != 6 {
			t.Fatalf("perturb: %d moved, %v", n, err)
		}
		b, _, _ := perturb(ws, bin, 1, rand.New(rand.NewPCG(1, 0)))
		c, _, _ := perturb(ws, bin, 1, rand.New(rand.NewPCG(2, 0)))
		if !bytes.Equal(a, b) || bytes.Equal(a, c) {
			t.Fatal("same seed must give the same model, another seed another one")
		}
	})
	for _, tc := range []struct {
		name, manifest, want string
		bin                  []byte
	}{
		{"ShortBin", `[{"paths":["m.bin"],"weights":[{"name":"a","shape":[4],"dtype":"float32","quantization":{"dtype":"uint8","scale":1,"min":0}}]}]`, "too short", []byte{1, 2}},
		{"LongBin", `[{"paths":["m.bin"],"weights":[{"name":"a","shape":[1],"dtype":"float32","quantization":{"dtype":"uint8","scale":1,"min":0}}]}]`, "describes 1", []byte{1, 2}},
		{"UnknownDType", `[{"paths":["m.bin"],"weights":[{"name":"a","shape":[1],"dtype":"int32"}]}]`, "unsupported dtype", []byte{1, 2, 3, 4}},
		{"TwoGroups", `[{"paths":["m.bin"],"weights":[]},{"paths":["n.bin"],"weights":[]}]`, "one group", nil},
		{"BadJSON", `[`, "parse manifest", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			m := filepath.Join(dir, "m.json")
			if err := os.WriteFile(m, []byte(tc.manifest), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "m.bin"), tc.bin, 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			err := run([]string{"-manifest", m, "-out", t.TempDir()}, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
