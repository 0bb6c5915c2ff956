package appbench

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk/face"
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
	if err := PrepareStore(context.Background(), dir, 10); err != nil {
		t.Fatal(err)
	}
	m, err := MeasureMemory(context.Background(), dir, "")
	if err != nil || m.RSS <= 0 || m.HWM < m.RSS || m.References != 10 || m.Models {
		t.Fatalf("memory without models: %+v, %v", m, err)
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
