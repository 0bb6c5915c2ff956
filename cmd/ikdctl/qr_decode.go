package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/ikd-field/ikd/internal/imagefile"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/qr"
	"github.com/ikd-field/ikd/kiosk/token"
)

// qrDecode reads the QR code in each image and prints, one line per image, the file name,
// a tab and either the raw text (--raw) or the verified token (the verification error when
// it does not verify). Exit status 0 only if every image decoded (and verified, without --raw).
func qrDecode(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("qr decode", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	raw := fs.Bool("raw", false, "print the QR text exactly as encoded, without verifying it")
	asJSON := fs.Bool("json", false, `one JSON object per line: {"file","text","error"}`)
	data := dataDirFlag(fs)
	secretFile := secretFlag(fs)
	if err := fs.Parse(e.args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: 2, err: err}
	}
	if fs.NArg() == 0 {
		return &exitError{code: 2, err: errors.New("usage: qr decode [--raw] [--json] [--data DIR] [--secret-file F] IMAGE...")}
	}
	var verifier *token.Verifier
	if !*raw {
		st, err := openStore(ctx, *data, *secretFile)
		if err != nil {
			return err
		}
		defer st.Close()
		verifier = token.NewVerifier(st)
	}

	failed := 0
	for _, file := range fs.Args() {
		text, err := decodeImageFile(ctx, file)
		if err == nil && verifier != nil {
			var tok kiosk.Token
			if tok, err = verifier.Verify(ctx, text, time.Now()); err == nil {
				text = tokenSummary(tok)
			} else {
				text = ""
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			failed++
		}
		if werr := printDecoded(e.stdout, *asJSON, file, text, err); werr != nil {
			return werr
		}
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d image(s) not read", failed, fs.NArg())}
	}
	return nil
}

// decodeImageFile reads a PNG, JPEG or WebP file and returns the text of its QR code.
func decodeImageFile(ctx context.Context, file string) (string, error) {
	img, err := imagefile.Read(file)
	if err != nil {
		return "", err
	}
	// A still image gets every rung: its result must not depend on how busy the machine is.
	s := &qr.Scanner{Budget: qr.NoBudget}
	return s.Decode(ctx, img)
}

func tokenSummary(t kiosk.Token) string {
	return fmt.Sprintf("NIK %s registration %s email %s phone %s issued %s expires %s key %s",
		t.NIK, t.RegistrationID, t.MaskedEmail, t.MaskedPhone,
		t.IssuedAt.UTC().Format(time.RFC3339), t.ExpiresAt.UTC().Format(time.RFC3339), t.KeyID)
}

func printDecoded(w io.Writer, asJSON bool, file, text string, err error) error {
	if asJSON {
		line := struct {
			File  string `json:"file"`
			Text  string `json:"text"`
			Error string `json:"error"`
		}{File: file, Text: text}
		if err != nil {
			line.Error = err.Error()
		}
		return json.NewEncoder(w).Encode(line)
	}
	if err != nil {
		text = "error: " + err.Error()
	}
	_, werr := fmt.Fprintf(w, "%s\t%s\n", file, text)
	return werr
}
