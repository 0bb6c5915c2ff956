package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/internal/shareddata"
)

// faceVerifyShared returns the shared folder or skips.
func faceVerifyShared(t *testing.T) string {
	t.Helper()
	models := shareddata.Require(t, "models", "dlib_face_recognition_resnet_model_v1.dat")
	return filepath.Dir(filepath.Dir(models))
}

func runFaceCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestFaceVerify(t *testing.T) {
	shared := faceVerifyShared(t)
	models := filepath.Join(shared, "models")
	photo := func(rel string) string { return filepath.Join(shared, "testdata", "faces", rel) }
	verdict := regexp.MustCompile(`^(\S+)\tdistance (\d+\.\d{4})\tscore (-?\d+\.\d{4})\tband (match|uncertain|no_match)`)

	t.Run("ReferencePhoto", func(t *testing.T) {
		code, out, errOut := runFaceCmd(t, "face", "verify", "--models", models, "--reference", photo("tzuyu/1.jpg"),
			photo("tzuyu/1.jpg"), photo("luda/1.jpg"), photo("jimin/3.jpg"))
		if code != 1 {
			t.Fatalf("exit %d, want 1 (one image has no face)\n%s\n%s", code, out, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 {
			t.Fatalf("%d lines:\n%s", len(lines), out)
		}
		same := verdict.FindStringSubmatch(lines[0])
		if same == nil || same[2] != "0.0000" {
			t.Fatalf("the reference photo against itself: %q", lines[0])
		}
		if verdict.FindStringSubmatch(lines[1]) == nil {
			t.Fatalf("second photo: %q", lines[1])
		}
		if !strings.Contains(lines[2], "hint face.none") || !strings.Contains(lines[2], "Wajah tidak terlihat") {
			t.Fatalf("faceless photo: %q", lines[2])
		}
		if !strings.Contains(errOut, "stand-in") {
			t.Fatalf("no stand-in warning on stderr:\n%s", errOut)
		}
	})
	t.Run("DescriptorFlag", func(t *testing.T) {
		d := base64.StdEncoding.EncodeToString(make([]byte, 512))
		code, out, errOut := runFaceCmd(t, "face", "verify", "--models", models, "--descriptor", d, photo("tzuyu/1.jpg"))
		if code != 0 || verdict.FindString(out) == "" {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
	})
}

func TestFaceVerifyBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"NoReference", []string{"x.jpg"}, 2, "exactly one of --reference and --descriptor"},
		{"BothReferences", []string{"--reference", "a.jpg", "--descriptor", "AAAA", "x.jpg"}, 2, "exactly one"},
		{"NoImages", []string{"--descriptor", "AAAA"}, 2, "no images"},
		{"NotBase64", []string{"--descriptor", "!!", "x.jpg"}, 2, "not base64"},
		{"ShortDescriptor", []string{"--descriptor", "AAAA", "x.jpg"}, 2, "512 bytes"},
		{"UnknownDetector", []string{"--detector", "sift", "--descriptor", "AAAA", "x.jpg"}, 2, "unknown face detector"},
		{"MissingModels", []string{"--models", "/nonexistent", "--descriptor", base64.StdEncoding.EncodeToString(make([]byte, 512)), "x.jpg"}, 1, "shape_predictor_5_face_landmarks.dat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runFaceCmd(t, append([]string{"face", "verify"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.want)
			}
		})
	}
}
