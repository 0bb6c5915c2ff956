package qr_test

import (
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/ikd-field/ikd/internal/slowtest"
	"github.com/ikd-field/ikd/kiosk/qr"
	"github.com/ikd-field/ikd/kiosk/qr/qrbench"
)

// zxingCppPhotos is what ZXingReader (Debian zxing-cpp-tools 2.x) read of qrbench.Photos()
// per scale, measured with `go run ./cmd/ikdctl bench qr` (the real-photo table). The test
// compares with a live run when ZXingReader is installed and with these counts otherwise.
var zxingCppPhotos = map[float64]int{1: 39, 0.5: 21, 0.35: 12}

// TestSlowRealPhotos reads zxing's blackbox photos, as taken and shrunk (qrbench.PhotoScales),
// one attempt per picture with a fresh Scanner, and requires at least plain gozxing's and
// zxing-cpp's count on the same pictures at every scale.
func TestSlowRealPhotos(t *testing.T) {
	slowtest.Skip(t, "long pixel run: build/test.sh runs it in the pass without -race")
	dir, err := qrbench.PhotoDir()
	if err != nil {
		t.Skipf("real photos unavailable: %v (set IKD_GOZXING_DIR to the gozxing v0.1.1 module directory)", err)
	}
	ctx := context.Background()
	zxing := qrbench.Peers()[1]
	_, lookErr := zxing.ReadFile(ctx, filepath.Join(dir, qrbench.Photos()[0].File))
	live := !errors.Is(lookErr, qrbench.ErrPeerMissing)
	tmp := t.TempDir()
	for _, scale := range qrbench.PhotoScales {
		ours, plain, peer := 0, 0, 0
		for _, p := range qrbench.Photos() {
			img, err := qrbench.LoadPhoto(dir, p)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, p.File)
			if scale != 1 {
				img = qrbench.Scaled(img, scale)
				file = writeTestPNG(t, tmp, img)
			}
			o, _ := (&qr.Scanner{Budget: qr.NoBudget}).Decode(ctx, img)
			g, _ := (qr.Plain{}).Decode(ctx, img)
			z := ""
			if live {
				if z, err = zxing.ReadFile(ctx, file); err != nil {
					t.Fatal(err)
				}
			}
			ours += b2i(o == p.Want)
			plain += b2i(g == p.Want)
			peer += b2i(z == p.Want)
		}
		if !live {
			peer = zxingCppPhotos[scale]
		}
		n := len(qrbench.Photos())
		t.Logf("scale %.2f: ours %d/%d, plain gozxing %d, zxing-cpp %d (live: %v)", scale, ours, n, plain, peer, live)
		if ours < plain || ours < peer {
			t.Errorf("scale %.2f: read %d/%d photos; plain gozxing %d, zxing-cpp %d", scale, ours, n, plain, peer)
		}
	}
}

func writeTestPNG(t *testing.T, dir string, img image.Image) string {
	t.Helper()
	file := filepath.Join(dir, "photo.png")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return file
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
