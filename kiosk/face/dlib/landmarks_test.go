package dlib

import (
	"context"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/facetest"
)

// debian68 is dlib's published 68-point landmark model as Debian's libdlib-data installs it.
const debian68 = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"

// TestFiveAndSixtyEightPointModelsAgree analyses the same photos with the shared 5-point model
// and with dlib's 68-point model under the 5-point name: the pose the gate and the liveness
// challenge read (size, roll, yaw) must agree to within the 5-point model's own error, and so
// must the gate's verdict.
func TestFiveAndSixtyEightPointModelsAgree(t *testing.T) {
	if _, err := os.Stat(debian68); err != nil {
		t.Skipf("Debian's 68-point model absent (install libdlib-data): %v", err)
	}
	shared := facetest.SharedModels(t)
	dir := t.TempDir()
	for _, f := range face.ModelFiles {
		src := filepath.Join(shared, f)
		if f == face.ShapePredictorFile {
			src = debian68
		}
		if err := os.Symlink(src, filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	e68, err := Load(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer e68.Close()
	an68, err := face.NewAnalyzer(e68, face.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	an5 := mustAnalyzer(t, face.DefaultOptions())
	for _, photo := range []string{"tzuyu/1.jpg", "luda/1.jpg", "nayoung/1.jpg", "chaeyeon/2.jpg", "rena/1.jpg", "eunseo/2.jpg"} {
		t.Run(photo, func(t *testing.T) {
			frame := toYCbCr(facetest.SharedPhoto(t, photo))
			o5, err := an5.Analyze(context.Background(), frame)
			if err != nil {
				t.Fatal(err)
			}
			o68, err := an68.Analyze(context.Background(), frame)
			if err != nil {
				t.Fatal(err)
			}
			p5, p68 := o5.Quality.Pose, o68.Quality.Pose
			t.Logf("5-point iod %.1f roll %.1f yaw %.1f; 68-point iod %.1f roll %.1f yaw %.1f", p5.IOD, p5.Roll, p5.Yaw, p68.IOD, p68.Roll, p68.Yaw)
			if math.Abs(p5.IOD-p68.IOD) > 0.08*p68.IOD || math.Abs(p5.Roll-p68.Roll) > 3 || math.Abs(p5.Yaw-p68.Yaw) > 6 {
				t.Errorf("poses disagree: 5-point %+v, 68-point %+v", p5, p68)
			}
		})
	}
}
