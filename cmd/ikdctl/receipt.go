package main

import (
	"context"
	"fmt"
	"os"

	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/printer"
	"github.com/ikd-field/ikd/kiosk/receipt"
	"github.com/ikd-field/ikd/kiosk/store"
)

const receiptUsage = "receipt --data DIR [--secret-file F] RECORD_ID [--pdf OUT.pdf] [--printer QUEUE]"

// runReceipt reprints the receipt of an outbox record, for reprints at the counter and for
// support: the same PDF the window's "Cetak" prints, written to a file, sent to a CUPS queue
// with lp, or both.
func runReceipt(ctx context.Context, e env) error {
	fs := newFlags("receipt", e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	out := fs.String("pdf", "", "write the receipt PDF to this file")
	queue := fs.String("printer", "", "print the receipt on this CUPS queue (lp -d QUEUE)")
	// The record id may stand between the flags: parse what follows it as well.
	var ids []string
	for args := e.args; ; {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		ids, args = append(ids, fs.Arg(0)), fs.Args()[1:]
	}
	if len(ids) != 1 || (*out == "" && *queue == "") {
		return usageError(receiptUsage + " (one record id; --pdf, --printer or both)")
	}
	st, err := openStore(ctx, *data, *secretFile)
	if err != nil {
		return err
	}
	defer st.Close()
	paper, err := app.PaperReceipt(ctx, st, ids[0], store.OperatorActor)
	if err != nil {
		return err
	}
	pdf, err := receipt.PDF(paper)
	if err != nil {
		return err
	}
	if *out != "" {
		// The receipt names a citizen: readable by the kiosk's user only.
		if err := os.WriteFile(*out, pdf, 0o600); err != nil {
			return fmt.Errorf("write receipt: %w", err)
		}
		fmt.Fprintf(e.stdout, "receipt %s (%s, %s) written to %s\n", paper.Ref(), paper.Kind, paper.State, *out)
	}
	if *queue != "" {
		job, err := printer.CUPS{Queue: *queue}.Print(ctx, pdf, "IKD-"+paper.Ref())
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "receipt %s (%s, %s) printed on %s as job %s\n", paper.Ref(), paper.Kind, paper.State, *queue, job)
	}
	return nil
}
