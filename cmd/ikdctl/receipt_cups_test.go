//go:build cups

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// `ikdctl receipt --printer QUEUE` prints through the real CUPS (make check-print): the PDF
// CUPS-PDF writes names the citizen, the masked NIK and the reference.
func TestReceiptCUPSPrinter(t *testing.T) {
	queue, outDir := os.Getenv("IKD_TEST_PRINTER"), os.Getenv("IKD_TEST_PRINTER_OUT")
	if queue == "" || outDir == "" {
		t.Fatal("IKD_TEST_PRINTER and IKD_TEST_PRINTER_OUT are not set: run make check-print")
	}
	data, secret, res, id := receiptStore(t)
	code, stdout, stderr := runStoreCLI(t, "receipt", "--data", data, "--secret-file", secret, id, "--printer", queue)
	if code != 0 || !strings.Contains(stdout, "printed on "+queue) {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	ref := kiosk.ShortRef(id)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		matches, _ := filepath.Glob(filepath.Join(outDir, "IKD-"+ref+"*.pdf"))
		if len(matches) > 0 {
			if text, err := exec.Command("pdftotext", matches[0], "-").Output(); err == nil && strings.Contains(string(text), ref) {
				for _, w := range []string{res.Name, res.NIK.Masked()} {
					if !strings.Contains(string(text), w) {
						t.Errorf("printed %s lacks %q:\n%s", matches[0], w, text)
					}
				}
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no printed PDF for %s in %s", ref, outDir)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
