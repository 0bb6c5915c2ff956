package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const cameraNotFoundText = "kamera tidak ditemukan / no camera found"

func runCameraCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCameraListWithoutCamera(t *testing.T) {
	if nodes, _ := filepath.Glob("/dev/video*"); len(nodes) > 0 {
		t.Skipf("this machine has video nodes %v; the no-camera path needs a machine without", nodes)
	}
	code, _, stderr := runCameraCLI(t, "camera", "list")
	if code != 1 || !strings.Contains(stderr, cameraNotFoundText) {
		t.Fatalf("exit %d, stderr %q; want 1 and %q", code, stderr, cameraNotFoundText)
	}
}

func TestCameraSnap(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "snap.jpg")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"MissingDevice", []string{"--device", filepath.Join(dir, "video9"), out}, 1, cameraNotFoundText},
		{"MissingDeviceNamesIt", []string{"--device", filepath.Join(dir, "video9"), out}, 1, "video9"},
		{"NoOutputFile", []string{"--device", filepath.Join(dir, "video9")}, 2, "usage: ikdctl camera snap"},
		{"TwoOutputFiles", []string{out, out}, 2, "exactly one output file"},
		{"ZeroWidth", []string{"--width", "0", out}, 2, "must be positive"},
		{"BadQuality", []string{"--quality", "101", out}, 2, "1-100"},
		{"NegativeWarmup", []string{"--warmup", "-1", out}, 2, "must not be negative"},
		{"UnknownFlag", []string{"--colour", out}, 2, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCameraCLI(t, append([]string{"camera", "snap"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.stderr)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("output file exists after a failed snap (stat: %v)", err)
			}
		})
	}
}

func TestCameraSubcommands(t *testing.T) {
	for _, args := range [][]string{{"camera"}, {"camera", "record"}, {"camera", "list", "extra"}} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			if code, _, stderr := runCameraCLI(t, args...); code != 2 || stderr == "" {
				t.Fatalf("exit %d, stderr %q; want 2 with a usage message", code, stderr)
			}
		})
	}
}
