package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/token"
)

// qrMake writes an activation token QR code as a PNG, for tests and demos: what the IKD app
// would show on the citizen's phone.
func qrMake(_ context.Context, e env) error {
	fs := flag.NewFlagSet("qr make", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	keyPath := fs.String("key", "", "registry signing key, PEM (from keys new) (required)")
	kid := fs.String("kid", "", "key id; default: the Key-Id line of the key file")
	nik := fs.String("nik", "", "citizen's NIK (required)")
	regID := fs.String("reg-id", "", "registration id; default: a new UUIDv7")
	email := fs.String("email", "", "citizen's e-mail, masked into the token (required)")
	phone := fs.String("phone", "", "citizen's phone number, masked into the token (required)")
	ttl := fs.Duration("ttl", 10*time.Minute, "validity of the token")
	issued := fs.String("issued-at", "", "issue time, RFC 3339; default: now")
	scale := fs.Int("scale", 6, "pixels per QR module")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if *keyPath == "" || *nik == "" || *email == "" || *phone == "" || fs.NArg() != 1 {
		return &exitError{code: 2, err: errors.New("usage: qr make --key PRIV --nik N [--reg-id R] --email E --phone P [--ttl 10m] [--issued-at T] [--scale 6] OUT.png")}
	}
	if *scale < 1 || *scale > 64 {
		return &exitError{code: 2, err: fmt.Errorf("--scale %d: want 1 to 64", *scale)}
	}
	fileKid, key, err := token.ReadPrivateKeyFile(*keyPath)
	if err != nil {
		return err
	}
	if *kid == "" {
		*kid = fileKid
	}
	if *kid == "" {
		return &exitError{code: 2, err: fmt.Errorf("%s names no key id; give --kid", *keyPath)}
	}
	signer, err := token.NewSigner(*kid, key)
	if err != nil {
		return err
	}

	issuedAt := time.Now()
	if *issued != "" {
		if issuedAt, err = time.Parse(time.RFC3339, *issued); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--issued-at: %w", err)}
		}
	}
	if *regID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("registration id: %w", err)
		}
		*regID = id.String()
	}
	c, err := token.NewClaims(kiosk.NIK(*nik), *regID, *email, *phone, issuedAt, *ttl)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	text, err := signer.Sign(c)
	if err != nil {
		return err
	}

	img, version, err := camera.DrawQR(text, *scale)
	if err != nil {
		return err
	}
	if err := writePNG(fs.Arg(0), img); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "token:     %s\nlength:    %d characters\nqr:        version %d, error correction M, %d×%d px\nreg id:    %s\nexpires:   %s\nwrote:     %s\n",
		text, len(text), version, img.Bounds().Dx(), img.Bounds().Dy(), c.RegistrationID,
		c.ExpiresAt.UTC().Format(time.RFC3339), fs.Arg(0))
	return nil
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write QR: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
