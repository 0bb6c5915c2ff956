package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/printer"
	"github.com/ikd-field/ikd/kiosk/receipt"
	"github.com/ikd-field/ikd/kiosk/store"
)

// demoReceipt is the headless demo's "Cetak": the record's receipt as the window prints it,
// saved in the demo's data directory and, with a queue, printed there too. It returns the
// PDF's path, the reference and the CUPS job (empty without a queue).
func demoReceipt(ctx context.Context, st *store.Store, dataDir, recordID, officerID, queue string) (path string, paper receipt.Receipt, job string, err error) {
	paper, err = app.PaperReceipt(ctx, st, recordID, officerID)
	if err != nil {
		return "", paper, "", err
	}
	pdf, err := receipt.PDF(paper)
	if err != nil {
		return "", paper, "", err
	}
	if err := os.MkdirAll(app.ReceiptDir(dataDir), 0o700); err != nil {
		return "", paper, "", fmt.Errorf("receipt dir: %w", err)
	}
	path = filepath.Join(app.ReceiptDir(dataDir), receipt.FileName(paper.Ref()))
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		return "", paper, "", fmt.Errorf("receipt file: %w", err)
	}
	if queue != "" {
		if job, err = (printer.CUPS{Queue: queue}).Print(ctx, pdf, "IKD-"+paper.Ref()); err != nil {
			return path, paper, "", err
		}
	}
	return path, paper, job, nil
}

// demoSecretFile writes the demo kiosk's unlock secret next to its store, so that
// `ikdctl receipt --data DIR --secret-file DIR/kiosk.secret` can reprint the demo's receipts.
// A real kiosk's secret never lies on its disk.
func demoSecretFile(dataDir string, secret []byte) (string, error) {
	path := filepath.Join(dataDir, "kiosk.secret")
	if err := os.WriteFile(path, append(append([]byte{}, secret...), '\n'), 0o600); err != nil {
		return "", fmt.Errorf("demo secret file: %w", err)
	}
	return path, nil
}

// sayReceipt prints the demo's receipt and says where it is, the path on a line of its own.
func sayReceipt(ctx context.Context, n *narrator, d *Demo, recordID, officerID, queue string) error {
	secret, err := demoSecretFile(d.Dir, d.Secret)
	if err != nil {
		return err
	}
	path, paper, job, err := demoReceipt(ctx, d.Kiosk.Store(), d.Dir, recordID, officerID, queue)
	if err != nil {
		return err
	}
	n.say("demo.receipt.pdf", paper.Ref(), paper.StatusLine(), d.Dir, secret, recordID)
	fmt.Fprintln(n.out, path)
	if job != "" {
		n.say("demo.receipt.printed", paper.Ref(), queue, job)
	}
	return nil
}
