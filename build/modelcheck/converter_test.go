//go:build models

package modelcheck

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/internal/shareddata"
)

// convertedSHA256 is the converter's output for @vladmandic/face-api@1.7.15 with Debian 12's
// dlib 19.24 (dlib's serialization may change between dlib versions).
const convertedSHA256 = "cdb1d47b961fe310ef1f3aa2974c5f65d29c079346760f6b6785c7e405f7266a"

// converter returns $IKD_CONVERTER, else the set-up's build of it in bin/.
func converter(t *testing.T) string {
	t.Helper()
	path := os.Getenv("IKD_CONVERTER")
	if path == "" {
		root, err := shareddata.ModuleRoot()
		if err != nil {
			t.Fatal(err)
		}
		path = filepath.Join(root, "bin", "face_api_to_dlib")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("converter not built (%v): run build/convert/build.sh bin/face_api_to_dlib or set IKD_CONVERTER", err)
	}
	return path
}

// tensor is one entry of a TF.js weights manifest, with its values as TF.js would decode them.
type tensor struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	DType string `json:"dtype"`
	Quant *struct {
		DType string  `json:"dtype"`
		Scale float64 `json:"scale"`
		Min   float64 `json:"min"`
	} `json:"quantization,omitempty"`
	values []float32
}

type group struct {
	Weights []*tensor `json:"weights"`
	Paths   []string  `json:"paths"`
}

// decode reads the manifest's tensors from bin in order, independently of the converter.
func decode(t *testing.T, manifest, bin []byte) []*tensor {
	t.Helper()
	var groups []group
	if err := json.Unmarshal(manifest, &groups); err != nil || len(groups) != 1 {
		t.Fatalf("manifest: %v (%d groups)", err, len(groups))
	}
	off := 0
	for _, w := range groups[0].Weights {
		n := 1
		for _, d := range w.Shape {
			n *= d
		}
		w.values = make([]float32, n)
		for i := range w.values {
			if w.Quant != nil {
				// The explicit float64 rounds the product: no fused multiply-add (Go spec).
				w.values[i] = float32(w.Quant.Min + float64(w.Quant.Scale*float64(bin[off])))
				off++
			} else {
				w.values[i] = math.Float32frombits(binary.LittleEndian.Uint32(bin[off:]))
				off += 4
			}
		}
	}
	if off != len(bin) {
		t.Fatalf("bin has %d bytes, manifest describes %d", len(bin), off)
	}
	return groups[0].Weights
}

// expected lays the tensors out as dlib holds them, one []float32 per line of the converter's
// --dump: con filters TF [h,w,in,out] → [out,in,h,w] followed by the bias; affine gamma, then
// beta; fc [in,out] as it is. units lists the conv+scale units from input to output.
func expected(t *testing.T, ts []*tensor, units []string) [][]float32 {
	t.Helper()
	byName := map[string]*tensor{}
	for _, w := range ts {
		byName[w.Name] = w
	}
	get := func(name string) *tensor {
		w, ok := byName[name]
		if !ok {
			t.Fatalf("no tensor %s", name)
		}
		return w
	}
	var out [][]float32
	for _, u := range units {
		f, b := get(u+"/conv/filters"), get(u+"/conv/bias")
		h, w, in, o := f.Shape[0], f.Shape[1], f.Shape[2], f.Shape[3]
		con := make([]float32, 0, len(f.values)+len(b.values))
		for oi := 0; oi < o; oi++ {
			for ii := 0; ii < in; ii++ {
				for y := 0; y < h; y++ {
					for x := 0; x < w; x++ {
						con = append(con, f.values[((y*w+x)*in+ii)*o+oi])
					}
				}
			}
		}
		out = append(out, append(con, b.values...), get(u+"/scale/weights").values, get(u+"/scale/biases").values)
	}
	return append(out, get("fc").values)
}

// dump runs the converter's --dump on model and returns every line's values.
func dump(t *testing.T, conv string, net []string, model string) [][]float32 {
	t.Helper()
	cmd := exec.Command(conv, append(net, "--dump", model)...)
	cmd.Stderr = os.Stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s --dump: %v", conv, err)
	}
	var out [][]float32
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		head := map[string]int{"con": 5, "affine": 2, "affine_beta": 2, "fc": 3}[fields[0]]
		if head == 0 {
			t.Fatalf("dump: unexpected line %.40q", sc.Text())
		}
		vals := make([]float32, len(fields)-head)
		for i, f := range fields[head:] {
			v, err := strconv.ParseFloat(f, 32)
			if err != nil {
				t.Fatal(err)
			}
			vals[i] = float32(v)
		}
		out = append(out, vals)
	}
	return out
}

func compare(t *testing.T, got, want [][]float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("model has %d parameter tensors, want %d", len(got), len(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("parameter tensor %d has %d values, want %d", i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if math.Float32bits(got[i][j]) != math.Float32bits(want[i][j]) {
				t.Fatalf("parameter tensor %d value %d = %g, want %g", i, j, got[i][j], want[i][j])
			}
		}
	}
}

// tinyUnits and tinyShapes describe the converter's "--net tiny" network.
var tinyUnits = []string{"stem", "res4/conv1", "res4/conv2", "down8/conv1", "down8/conv2"}

func tinyShapes() [][2]any {
	var s [][2]any
	add := func(u string, h, in, out int) {
		s = append(s, [2]any{u + "/conv/filters", []int{h, h, in, out}}, [2]any{u + "/conv/bias", []int{out}},
			[2]any{u + "/scale/weights", []int{out}}, [2]any{u + "/scale/biases", []int{out}})
	}
	add("stem", 5, 3, 4)
	add("res4/conv1", 3, 4, 4)
	add("res4/conv2", 3, 4, 4)
	add("down8/conv1", 3, 4, 8)
	add("down8/conv2", 3, 8, 8)
	return append(s, [2]any{"fc", []int{8, 4}})
}

// tinyModel makes a manifest and .bin for the tiny network with seeded random values: every
// third tensor float32, the others uint8-quantised as face-api's are.
func tinyModel(t *testing.T) (manifest []byte, bin []byte) {
	t.Helper()
	rng := rand.New(rand.NewSource(7))
	var g group
	var buf bytes.Buffer
	for i, s := range tinyShapes() {
		w := &tensor{Name: s[0].(string), Shape: s[1].([]int), DType: "float32"}
		n := 1
		for _, d := range w.Shape {
			n *= d
		}
		if i%3 == 2 {
			for j := 0; j < n; j++ {
				binary.Write(&buf, binary.LittleEndian, float32(rng.NormFloat64()))
			}
		} else {
			w.Quant = &struct {
				DType string  `json:"dtype"`
				Scale float64 `json:"scale"`
				Min   float64 `json:"min"`
			}{"uint8", 0.001 + rng.Float64()/100, -rng.Float64()}
			for j := 0; j < n; j++ {
				buf.WriteByte(byte(rng.Intn(256)))
			}
		}
		g.Weights = append(g.Weights, w)
	}
	g.Paths = []string{"tiny.bin"}
	manifest, err := json.Marshal([]group{g})
	if err != nil {
		t.Fatal(err)
	}
	return manifest, buf.Bytes()
}

// run converts manifest+bin in a temporary directory and returns the output path, the
// converter's stderr and its error.
func run(t *testing.T, conv string, net []string, manifest, bin []byte) (string, string, error) {
	t.Helper()
	dir := t.TempDir()
	mp, bp, out := filepath.Join(dir, "m.json"), filepath.Join(dir, "m.bin"), filepath.Join(dir, "out.dat")
	if err := os.WriteFile(mp, manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bp, bin, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(conv, append(net, mp, bp, out)...)
	cmd.Stderr = &stderr
	err := cmd.Run()
	return out, stderr.String(), err
}

func TestConverterRoundTrip(t *testing.T) {
	conv := converter(t)
	tiny := []string{"--net", "tiny"}
	manifest, bin := tinyModel(t)
	out, stderr, err := run(t, conv, tiny, manifest, bin)
	if err != nil {
		t.Fatalf("convert: %v\n%s", err, stderr)
	}
	compare(t, dump(t, conv, tiny, out), expected(t, decode(t, manifest, bin), tinyUnits))
}

func TestConverterRefuses(t *testing.T) {
	conv := converter(t)
	tiny := []string{"--net", "tiny"}
	manifest, bin := tinyModel(t)
	edit := func(f func(ws []map[string]any) []map[string]any) []byte {
		var gs []map[string]any
		if err := json.Unmarshal(manifest, &gs); err != nil {
			t.Fatal(err)
		}
		var ws []map[string]any
		raw, _ := json.Marshal(gs[0]["weights"])
		json.Unmarshal(raw, &ws)
		gs[0]["weights"] = f(ws)
		out, err := json.Marshal(gs)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cases := []struct {
		name          string
		manifest, bin []byte
		want          string
	}{
		{"WrongShape", edit(func(ws []map[string]any) []map[string]any {
			ws[0]["shape"] = []int{5, 5, 4, 3} // same count, in and out swapped
			return ws
		}), bin, "tensor stem/conv/filters has shape [5,5,4,3], the network needs [5,5,3,4]"},
		{"WrongCount", edit(func(ws []map[string]any) []map[string]any {
			ws[len(ws)-1]["shape"] = []int{8, 3} // fc is float32: the .bin drops 8×4 bytes
			return ws
		}), bin[:len(bin)-8*4], "tensor fc has shape [8,3], the network needs [8,4]"},
		{"TruncatedBin", manifest, bin[:len(bin)-1], "(truncated?)"},
		{"TrailingBytes", manifest, append(append([]byte{}, bin...), 0), "bytes, the manifest describes"},
		{"MissingTensor", edit(func(ws []map[string]any) []map[string]any {
			ws[len(ws)-1]["name"] = "fc_renamed"
			return ws
		}), bin, "missing tensor fc"},
		{"ExtraTensor", edit(func(ws []map[string]any) []map[string]any {
			return append(ws, map[string]any{"name": "extra", "shape": []int{1}, "dtype": "float32"})
		}), append(append([]byte{}, bin...), 0, 0, 0, 0), "tensor extra is not part of the network"},
		{"UnknownQuantization", edit(func(ws []map[string]any) []map[string]any {
			ws[0]["quantization"].(map[string]any)["dtype"] = "uint16"
			return ws
		}), bin, "quantization other than uint8"},
		{"NotJSON", []byte("[{\"weights\": "), bin, "invalid JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, stderr, err := run(t, conv, tiny, c.manifest, c.bin)
			if err == nil {
				t.Fatalf("converter accepted it: %s", stderr)
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("stderr %q does not say %q", stderr, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("refused conversion left %s", out)
			}
		})
	}
}

// faceAPIFiles reads the recognition model's two files from the face-api tarball at
// $IKD_FACE_API_TGZ (build/models.sh keeps it there when IKD_MODELS_CACHE is set).
func faceAPIFiles(t *testing.T) (manifest, bin []byte) {
	t.Helper()
	path := os.Getenv("IKD_FACE_API_TGZ")
	if path == "" {
		t.Skip("IKD_FACE_API_TGZ is not set (make check-models sets it)")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for manifest == nil || bin == nil {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s: recognition model files not found: %v", path, err)
		}
		switch h.Name {
		case "package/model/face_recognition_model-weights_manifest.json":
			manifest, err = io.ReadAll(tr)
		case "package/model/face_recognition_model.bin":
			bin, err = io.ReadAll(tr)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return manifest, bin
}

// TestConverterFaceAPI converts the real package and checks all 5,614,592 values of the result
// against this test's own decoding of the manifest, and the bytes against the pinned hash.
func TestConverterFaceAPI(t *testing.T) {
	conv := converter(t)
	manifest, bin := faceAPIFiles(t)
	out, stderr, err := run(t, conv, nil, manifest, bin)
	if err != nil {
		t.Fatalf("convert: %v\n%s", err, stderr)
	}
	ts := decode(t, manifest, bin)
	if len(ts) != 117 {
		t.Fatalf("manifest has %d tensors, want 117", len(ts))
	}
	var units []string
	for _, w := range ts {
		if u, ok := strings.CutSuffix(w.Name, "/conv/filters"); ok {
			units = append(units, u)
		}
	}
	compare(t, dump(t, conv, nil, out), expected(t, ts, units))
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != convertedSHA256 {
		t.Errorf("converted model: %d bytes, SHA-256 %s, want %s (another dlib version?)", len(data), got, convertedSHA256)
	}
	fmt.Fprintf(os.Stderr, "converted model: %d bytes\n", len(data))
}
