package opencvdnn

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/dlib"
	"github.com/ikd-field/ikd/kiosk/face/facetest"
)

// modelDir is a directory with the real models build/models.sh installs (IKD_REAL_MODELS,
// else IKD_MODELS), or skips.
func modelDir(t testing.TB) string {
	t.Helper()
	for _, env := range []string{facetest.RealModelsEnv, face.ModelsEnv} {
		if dir := os.Getenv(env); dir != "" {
			if _, err := os.Stat(filepath.Join(dir, face.ModernFile)); err == nil {
				return dir
			}
		}
	}
	t.Skipf("no %s in $%s or $%s (run build/models.sh)", face.ModernFile, facetest.RealModelsEnv, face.ModelsEnv)
	return ""
}

func loadNet(t testing.TB) *Net {
	t.Helper()
	n, err := Load(filepath.Join(modelDir(t), face.ModernFile), 3, face.ArcFaceSize, face.ArcFaceSize, 512)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func TestRunIsDeterministicAndChecksItsInput(t *testing.T) {
	n := loadNet(t)
	in := make([]float32, 3*face.ArcFaceSize*face.ArcFaceSize)
	for i := range in {
		in[i] = float32(math.Sin(float64(i))) // any fixed input
	}
	a, err := n.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i] != b[i] || math.IsNaN(float64(a[i])) {
			t.Fatalf("output %d: %v then %v", i, a[i], b[i])
		}
	}
	if _, err := n.Run(context.Background(), in[:10]); err == nil {
		t.Error("a short input ran")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := n.Run(ctx, in); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
	n.Close()
	if _, err := n.Run(context.Background(), in); !errors.Is(err, face.ErrClosed) {
		t.Errorf("run after close: %v, want ErrClosed", err)
	}
}

func TestLoadRefusesWhatIsNotTheModel(t *testing.T) {
	dir := modelDir(t)
	junk := filepath.Join(t.TempDir(), "junk.onnx")
	if err := os.WriteFile(junk, []byte("not a network"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(junk, 3, 112, 112, 512); err == nil {
		t.Error("junk loaded")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "absent.onnx"), 3, 112, 112, 512); err == nil {
		t.Error("a missing file loaded")
	}
	if _, err := Load(filepath.Join(dir, face.ModernFile), 3, 112, 112, 128); !errors.Is(err, ErrOutputSize) {
		t.Errorf("a 512-d model loaded as 128-d: %v", err)
	}
}

// On real photos, through dlib's landmarks and the ArcFace crop, two photos of one person
// are more alike than photos of two people.
func TestModernEngineOnRealPhotos(t *testing.T) {
	dir := modelDir(t)
	engine, err := dlib.Load(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	mm, err := face.CheckModernModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	an, err := face.NewAnalyzer(engine, face.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	m := face.NewModern(loadNet(t), mm)
	embed := func(rel string) face.Embedding {
		img := facetest.SharedPhoto(t, rel)
		obs, err := an.Analyze(context.Background(), img)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		e, err := m.Embed(context.Background(), img, obs.Shape)
		if err != nil || len(e) != 512 {
			t.Fatalf("%s: %d values, %v", rel, len(e), err)
		}
		return e
	}
	a1, a2, b1 := embed("bona/1.jpg"), embed("bona/2.jpg"), embed("tzuyu/1.jpg")
	same, diff := face.Cosine(a1, a2), face.Cosine(a1, b1)
	t.Logf("bona 1–2 %.3f, bona–tzuyu %.3f", same, diff)
	if !(same > diff+0.1) {
		t.Errorf("same person %.3f, two people %.3f", same, diff)
	}
}

func BenchmarkRun(b *testing.B) {
	n := loadNet(b)
	in := make([]float32, 3*face.ArcFaceSize*face.ArcFaceSize)
	for b.Loop() {
		if _, err := n.Run(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}
