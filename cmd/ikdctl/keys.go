package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/token"
)

// Names of the files "keys new" writes.
const (
	signingKeyFile = "registry-signing.key"
	signingPubFile = "registry-signing.pub"
)

func runKeys(ctx context.Context, e env) error {
	return subcommand(ctx, e, "keys", map[string]func(context.Context, env) error{
		"new":   keysNew,
		"trust": keysTrust,
	})
}

// keysNew makes a registry token-signing key pair.
func keysNew(_ context.Context, e env) error {
	fs := flag.NewFlagSet("keys new", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	out := fs.String("out", "", "directory to write "+signingKeyFile+" and "+signingPubFile+" to (required)")
	kid := fs.String("kid", "", "key id; default: the first 6 bytes of the public key's SHA-256, in hex")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return &exitError{code: 2, err: errors.New("usage: keys new --out DIR [--kid ID]")}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	if *kid == "" {
		*kid = token.DefaultKeyID(pub)
	}
	privPEM, err := token.MarshalPrivateKeyPEM(*kid, priv)
	if err != nil {
		return err
	}
	pubPEM, err := token.MarshalPublicKeyPEM(*kid, pub)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", *out, err)
	}
	privPath, pubPath := filepath.Join(*out, signingKeyFile), filepath.Join(*out, signingPubFile)
	// Never overwrite a key: losing a registry signing key invalidates every token it signed.
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s already exists; refusing to overwrite a key", p)
		}
	}
	if err := writeNew(privPath, privPEM, 0o600); err != nil {
		return err
	}
	if err := writeNew(pubPath, pubPEM, 0o644); err != nil {
		os.Remove(privPath)
		return err
	}
	fmt.Fprintf(e.stdout, "key id:      %s\nprivate key: %s (keep secret; mode 0600)\npublic key:  %s\n", *kid, privPath, pubPath)
	return nil
}

// writeNew creates path with data and mode, failing if it exists.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// keysTrust adds a registry public key to a kiosk's trust store.
func keysTrust(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("keys trust", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	data := dataDirFlag(fs)
	secretFile := secretFlag(fs)
	kidFlag := fs.String("kid", "", "key id; default: the Key-Id line of the key file")
	notBefore := fs.String("not-before", "", "first issue time the key may sign for, RFC 3339; default: no start")
	notAfter := fs.String("not-after", "", "issue time from which the key is no longer valid, RFC 3339; default: no end")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &exitError{code: 2, err: errors.New("usage: keys trust [--data DIR] [--secret-file F] [--kid ID] [--not-before T] [--not-after T] PUBKEY.pem")}
	}
	pemData, err := readPublicKeyFile(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("read public key: %w", err)
	}
	kid, pub, err := token.ParsePublicKeyPEM(pemData)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	if *kidFlag != "" {
		kid = *kidFlag
	}
	if kid == "" {
		return &exitError{code: 2, err: fmt.Errorf("%s names no key id; give --kid", fs.Arg(0))}
	}
	key := kiosk.RegistryKey{KeyID: kid, PublicKey: pub}
	if key.NotBefore, err = parseOptionalTime("not-before", *notBefore); err != nil {
		return &exitError{code: 2, err: err}
	}
	if key.NotAfter, err = parseOptionalTime("not-after", *notAfter); err != nil {
		return &exitError{code: 2, err: err}
	}
	st, err := openStore(ctx, *data, *secretFile)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.AddRegistryKey(ctx, "ikdctl", key); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "trusted registry key %s (valid %s to %s)\n", kid, timeOrOpen(key.NotBefore), timeOrOpen(key.NotAfter))
	return nil
}

func parseOptionalTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s: %w", name, err)
	}
	return t, nil
}

func timeOrOpen(t time.Time) string {
	if t.IsZero() {
		return "open"
	}
	return t.UTC().Format(time.RFC3339)
}

// maxPublicKeyFile bounds a public-key PEM (about 120 bytes for Ed25519): the argument may be
// anything, /dev/zero included.
const maxPublicKeyFile = 16 << 10

func readPublicKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPublicKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxPublicKeyFile {
		return nil, fmt.Errorf("%s holds more than %d bytes: not a public key PEM", path, maxPublicKeyFile)
	}
	return b, nil
}
