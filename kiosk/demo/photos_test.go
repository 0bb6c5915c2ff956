package demo

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/internal/slowtest"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/liveness"
)

// realModels returns a model directory whose recognition model may report a match:
// $IKD_REAL_MODELS, else $IKD_MODELS. It skips t in -short mode or when there is none.
func realModels(t *testing.T) string {
	t.Helper()
	slowtest.Skip(t, "the real face pipeline takes seconds")
	dir := os.Getenv("IKD_REAL_MODELS")
	if dir == "" {
		dir = os.Getenv(face.ModelsEnv)
	}
	if dir == "" {
		t.Skip("no real models: set IKD_REAL_MODELS (or IKD_MODELS) to a directory build/models.sh filled, e.g. /work/models-real")
	}
	set, err := face.CheckModels(dir)
	if err != nil {
		t.Skipf("models in %s unusable: %v", dir, err)
	}
	if c := set.Class(face.RecognitionFile); !c.MayMatch() {
		t.Skipf("recognition model in %s is %s: it reports no match", dir, c)
	}
	if _, err := os.Stat(filepath.Join(debianJohns, demoJohn.dir)); err != nil {
		t.Skipf("Debian's example photos absent (libdlib19.1): %v", err)
	}
	return dir
}

// facesSource plays demoFaces frame by frame, stamped as a 15 fps camera would.
type facesSource struct {
	f   *demoFaces
	seq uint64
	t0  time.Time
}

func (s *facesSource) Next(ctx context.Context) (camera.Frame, error) {
	f, err := s.f.next(ctx)
	s.seq++
	f.Seq, f.Captured = s.seq, s.t0.Add(time.Duration(s.seq)*time.Second/demoFPS)
	return f, err
}

func (s *facesSource) Close() error { return nil }

// The demo's citizen's pinned photos answer either prompt of the challenge through the real
// pipeline and match his reference (the demo picks the direction at random, so one run of the
// demo covers one of them).
func TestSlowDemoPhotosPassTheGates(t *testing.T) {
	models := realModels(t)
	p, err := app.LoadFace(models, face.DefaultOptions(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	ref, err := describePhoto(ctx, p, filepath.Join(debianJohns, demoJohn.dir, demoJohn.reference), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir     liveness.Direction
		yawSign float64
	}{{liveness.Left, 1}, {liveness.Right, -1}} {
		t.Run(tc.dir.String(), func(t *testing.T) {
			c, err := newDemoFaces(debianJohns, t.TempDir(), demoJohn)
			if err != nil {
				t.Fatal(err)
			}
			v := p.Live(&facesSource{f: c, t0: time.Now()}, 2*time.Minute, c.watch)
			v.Direction = func() (liveness.Direction, error) { return tc.dir, nil }
			res, err := v.VerifyFace(ctx, kiosk.Resident{References: []kiosk.Descriptor{ref}})
			if err != nil {
				t.Fatalf("capture: %v", err)
			}
			turn := liveness.DefaultConfig().TurnYaw
			if c.turn == nil {
				t.Fatal("no frame answered the turn")
			}
			if yaw := c.turn.Obs.Quality.Pose.Yaw; yaw*tc.yawSign < turn {
				t.Errorf("turn frame's yaw %.1f° does not reach %v° %s", yaw, turn, tc.dir)
			}
			if res.Band != kiosk.BandMatch {
				t.Errorf("band %s score %.3f, want match", res.Band, res.Score)
			}
		})
	}
}
