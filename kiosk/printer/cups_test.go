//go:build cups

package printer

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/receipt"
)

// These tests print through the real CUPS: a running cupsd with a CUPS-PDF queue, as
// build/cups.sh leaves it (make check-print). IKD_TEST_PRINTER names the queue and
// IKD_TEST_PRINTER_OUT the directory CUPS-PDF writes to.
func realQueue(t *testing.T) (queue, out string) {
	t.Helper()
	queue, out = os.Getenv("IKD_TEST_PRINTER"), os.Getenv("IKD_TEST_PRINTER_OUT")
	if queue == "" || out == "" {
		t.Fatal("IKD_TEST_PRINTER and IKD_TEST_PRINTER_OUT are not set: run make check-print (build/cups.sh starts CUPS)")
	}
	return queue, out
}

// A receipt printed to the CUPS-PDF queue comes out as a PDF whose text holds the citizen's
// name, the masked NIK and the reference.
func TestCUPSPrintsReceipt(t *testing.T) {
	queue, out := realQueue(t)
	r := receipt.Receipt{RecordID: uuid.Must(uuid.NewV7()).String(), Kind: kiosk.KindActivation,
		Name: "Siti Nurhaliza", NIK: "3271046504900002", At: time.Now(), Area: "Bogor Tengah",
		KioskID: "kiosk-cups-test", OfficerID: "budi", State: kiosk.RecordPending}
	pdf, err := receipt.PDF(r)
	if err != nil {
		t.Fatal(err)
	}
	title := "ikd-test-" + r.Ref()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	job, err := CUPS{Queue: queue}.Print(ctx, pdf, title)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("CUPS job %s", job)
	printed := waitForFile(ctx, t, out, title)
	text, err := exec.Command("pdftotext", printed, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", printed, err)
	}
	for _, want := range []string{r.Name, r.NIK.Masked(), r.Ref()} {
		if !strings.Contains(string(text), want) {
			t.Errorf("printed %s lacks %q:\n%s", printed, want, text)
		}
	}
}

// waitForFile polls out for the PDF CUPS-PDF names after the job's title; the deadline is the
// context's, so no verdict depends on how fast the machine is.
func waitForFile(ctx context.Context, t *testing.T, out, title string) string {
	t.Helper()
	for {
		matches, _ := filepath.Glob(filepath.Join(out, title+"*.pdf"))
		for _, m := range matches {
			// CUPS-PDF writes the file in place: wait until it ends with the PDF trailer.
			if b, err := os.ReadFile(m); err == nil && strings.Contains(string(b[max(0, len(b)-64):]), "%%EOF") {
				return m
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no printed PDF named %s* in %s: %v", title, out, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func TestCUPSNoSuchQueue(t *testing.T) {
	realQueue(t)
	_, err := CUPS{Queue: "ikd-no-such-queue"}.Print(context.Background(), []byte("%PDF-1.3"), "x")
	if !errors.Is(err, ErrNoQueue) {
		t.Fatalf("Print = %v, want %s", err, ErrNoQueue.Code)
	}
}

// With no scheduler to talk to (CUPS_SERVER points at a socket nobody listens on), the
// officer reads that CUPS is not running, not that the queue is missing.
func TestCUPSSchedulerDown(t *testing.T) {
	queue, _ := realQueue(t)
	env := append(os.Environ(), "CUPS_SERVER="+filepath.Join(t.TempDir(), "no-cupsd.sock"))
	_, err := CUPS{Queue: queue, Env: env}.Print(context.Background(), []byte("%PDF-1.3"), "x")
	if !errors.Is(err, ErrCUPSDown) {
		t.Fatalf("Print = %v, want %s", err, ErrCUPSDown.Code)
	}
}
