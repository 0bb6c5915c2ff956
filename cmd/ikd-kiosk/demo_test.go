package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/internal/shareddata"
)

func TestDemoRunsTheWholeWorkflow(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--demo", "--data", t.TempDir(), "--lang", "en", "--models", ""}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	got := out.String()
	for _, want := range []string{
		"Officer signed in: Budi Santoso (supervisor)",
		"District resident data loaded: 3 added",
		"Valid QR: NIK 320101********01",
		"Resident found: Siti Aminah, born 01-01-1990",
		"Activation approved and stored",
		"Refused as it should be — the same QR scanned again: This registration was already activated",
		"Refused as it should be — a QR signed by an unknown key:",
		"Refused as it should be — an expired QR: The QR has expired",
		"Refused as it should be — a damaged (truncated) QR:",
		"Deactivation stored",
		"Outbox: 2 waiting for sync",
		"Hash-chained audit log intact: 6 entries",
		"Face camera step skipped: IKD_MODELS / --models",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", got)
	}
}

func TestDemoInBahasaIndonesiaByDefault(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--demo", "--data", t.TempDir(), "--lang", "", "--models", ""}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "Petugas masuk: Budi Santoso") || !strings.Contains(out.String(), "QR kedaluwarsa") {
		t.Fatalf("demo output is not in Bahasa Indonesia:\n%s", out.String())
	}
}

func TestWithoutDemoFlagExplains(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "--demo") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}

// With the dlib models and the shared photos, the demo runs the real face pipeline on a
// held-up photo, which the liveness check must refuse.
func TestDemoRefusesAHeldUpPhoto(t *testing.T) {
	models := filepath.Dir(shareddata.Require(t, "models", "dlib_face_recognition_resnet_model_v1.dat"))
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--demo", "--data", t.TempDir(), "--lang", "en", "--models", models}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{
		"Refused as it should be — a photo held up to the camera: The face does not move",
		"The officer rejects with the reason: foto dipegang di depan kamera",
		"Hash-chained audit log intact: 7 entries",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
