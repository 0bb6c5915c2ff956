// Command portnoise writes a copy of a TF.js weights manifest and its .bin in which every
// uint8-quantised tensor is dequantised and moved by independent noise drawn uniformly from
// ±scale/2, and stored as float32 (float32 tensors are copied unchanged). Run from the module
// root on face-api's recognition model:
//
//	go run ./kiosk/face/match/cmd/portnoise -manifest package/model/face_recognition_model-weights_manifest.json -seed 1 -out DIR
//
// Why: round-to-nearest 8-bit quantisation left each published weight within ±scale/2 of the
// value the package stores, so the published weights are the stored ones plus an error of that
// distribution. A model drawn this way is, statistically, as far from the converted model as the
// published one is; converting it (build/convert) and comparing descriptors with the converted
// model's estimates the port error without the published file (assets/calibration/README.md).
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "portnoise:", err)
		os.Exit(1)
	}
}

// weight is one manifest entry. Quant is nil for float32 tensors.
type weight struct {
	Name  string        `json:"name"`
	Shape []int         `json:"shape"`
	DType string        `json:"dtype"`
	Quant *quantization `json:"quantization,omitempty"`
}

// quantization is TF.js's affine quantisation: value = Min + Scale·q.
type quantization struct {
	DType string  `json:"dtype"`
	Scale float64 `json:"scale"`
	Min   float64 `json:"min"`
}

type group struct {
	Paths   []string `json:"paths"`
	Weights []weight `json:"weights"`
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("portnoise", flag.ContinueOnError)
	fs.SetOutput(stderr)
	manifest := fs.String("manifest", "", "TF.js weights manifest (its .bin is read from the same folder)")
	out := fs.String("out", "", "folder for the noisy manifest and .bin (same file names)")
	seed := fs.Uint64("seed", 1, "noise seed")
	scale := fs.Float64("scale", 1, "noise width in quantisation steps (1: uniform ±scale/2, the rounding error)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *manifest == "" || *out == "" {
		return fmt.Errorf("need -manifest and -out")
	}
	raw, err := os.ReadFile(*manifest)
	if err != nil {
		return fmt.Errorf("read manifest: %w", err)
	}
	var groups []group
	if err := json.Unmarshal(raw, &groups); err != nil {
		return fmt.Errorf("parse manifest %s: %w", *manifest, err)
	}
	if len(groups) != 1 || len(groups[0].Paths) != 1 {
		return fmt.Errorf("manifest %s: want one group with one .bin, have %d groups", *manifest, len(groups))
	}
	g := &groups[0]
	bin, err := os.ReadFile(filepath.Join(filepath.Dir(*manifest), g.Paths[0]))
	if err != nil {
		return fmt.Errorf("read weights: %w", err)
	}
	noisy, moved, err := perturb(g.Weights, bin, *scale, rand.New(rand.NewPCG(*seed, 0)))
	if err != nil {
		return fmt.Errorf("%s: %w", g.Paths[0], err)
	}
	for i := range g.Weights {
		g.Weights[i].Quant = nil
		g.Weights[i].DType = "float32"
	}
	outManifest, err := json.Marshal(groups)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, filepath.Base(*manifest)), outManifest, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, g.Paths[0]), noisy, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "portnoise: %d tensors, %d quantised values moved (seed %d, ±%g steps/2) -> %s\n", len(g.Weights), moved, *seed, *scale, *out)
	return nil
}

// perturb decodes bin as TF.js does (value = min + scale·q, computed in float64 and stored as
// float32) and returns it as float32 little-endian, each quantised value moved by
// U(−width·scale/2, +width·scale/2), with the count of moved values.
func perturb(ws []weight, bin []byte, width float64, rng *rand.Rand) ([]byte, int, error) {
	var out []byte
	off, moved := 0, 0
	for _, w := range ws {
		n := 1
		for _, d := range w.Shape {
			n *= d
		}
		switch {
		case w.Quant == nil && w.DType == "float32":
			if off+4*n > len(bin) {
				return nil, 0, fmt.Errorf("tensor %s: .bin too short", w.Name)
			}
			out = append(out, bin[off:off+4*n]...)
			off += 4 * n
		case w.Quant != nil && w.Quant.DType == "uint8":
			if off+n > len(bin) {
				return nil, 0, fmt.Errorf("tensor %s: .bin too short", w.Name)
			}
			for _, q := range bin[off : off+n] {
				v := float32(w.Quant.Min + float64(w.Quant.Scale*float64(q)))
				v += float32(width * w.Quant.Scale * (rng.Float64() - 0.5))
				out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
			}
			off += n
			moved += n
		default:
			return nil, 0, fmt.Errorf("tensor %s: unsupported dtype %q", w.Name, w.DType)
		}
	}
	if off != len(bin) {
		return nil, 0, fmt.Errorf(".bin has %d bytes, the manifest describes %d", len(bin), off)
	}
	return out, moved, nil
}
