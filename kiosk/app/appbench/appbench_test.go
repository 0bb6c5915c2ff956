package appbench

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/store"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

// TestPreviewCounts runs the preview measurement briefly with the QR analyser only and
// checks that every subscriber saw frames; rates are not asserted.
func TestPreviewCounts(t *testing.T) {
	r, err := Preview(context.Background(), PreviewConfig{Dir: t.TempDir(), Width: 320, Height: 240, FPS: 30,
		Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Preview == 0 || r.QR == 0 || r.Published == 0 || r.FaceLoaded {
		t.Errorf("result %+v", r)
	}
}

func TestMemoryReadsProc(t *testing.T) {
	dir := t.TempDir()
	if err := PrepareStore(context.Background(), dir, 10, ""); err != nil {
		t.Fatal(err)
	}
	m, err := MeasureMemory(context.Background(), dir, "")
	if err != nil || m.RSS <= 0 || m.HWM < m.RSS || m.References != 10 || m.Models {
		t.Fatalf("memory without models: %+v, %v", m, err)
	}
}

// With an engine, every resident of the bench store carries a unit template of it, as from a
// registry that described every reference photo.
func TestPrepareStoreWithTemplates(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := PrepareStore(ctx, dir, 7, "arcface112:bench"); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(dir, app.StoreFile), benchSecret, app.StoreOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 7 {
		r, err := st.ResidentByNIK(ctx, snapshot.Synthetic(1, i).NIK)
		if err != nil {
			t.Fatal(err)
		}
		tp, ok := r.TemplateOf("arcface112:bench")
		if !ok || len(r.Templates) != 1 || len(tp.Values()) != templateDims {
			t.Fatalf("resident %d: templates %d, of the engine %v", i, len(r.Templates), ok)
		}
		var norm float64
		for _, v := range tp.Values() {
			norm += float64(v) * float64(v)
		}
		if math.Abs(norm-1) > 1e-2 {
			t.Errorf("resident %d: template of squared length %v, want 1", i, norm)
		}
	}
}

// BenchmarkPreviewUnderAnalysis is the preview's frame rate at 1280×720 and 30 fps while
// the QR scanner and the face analyser (IKD_MODELS) take frames from the same bus.
func BenchmarkPreviewUnderAnalysis(b *testing.B) {
	models := os.Getenv(face.ModelsEnv)
	if models == "" {
		b.Skip("IKD_MODELS not set")
	}
	photo := DebianFace
	if _, err := os.Stat(photo); err != nil {
		photo = ""
	}
	var r PreviewResult
	for b.Loop() {
		var err error
		r, err = Preview(context.Background(), PreviewConfig{Dir: b.TempDir(), ModelDir: models, FacePhoto: photo,
			FPS: 30, Duration: 3 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(r.PreviewFPS(), "preview-fps")
	b.ReportMetric(r.QRFPS(), "qr-fps")
	b.ReportMetric(r.FaceFPS(), "face-fps")
}
