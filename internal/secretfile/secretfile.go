// Package secretfile reads the small files that hold a secret: the kiosk unlock secret, an
// officer's PIN, a registry signing key. Every command that reads one goes through Read, so
// the size cap and the permission check are the same everywhere.
package secretfile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxSize is the largest secret file Read accepts. A secret, a PIN or an Ed25519 PEM key is
// a few hundred bytes; the cap keeps /dev/zero or a mistyped path to a big file from
// exhausting memory.
const MaxSize = 4 << 10

// Errors of Read; callers branch with errors.Is.
var (
	// ErrTooLarge: the file holds more than MaxSize bytes (or never ends, like /dev/zero).
	ErrTooLarge = errors.New("secret file too large")
	// ErrExposed: a regular file whose mode lets group or others at it.
	ErrExposed = errors.New("secret file accessible by group or others")
)

// Read returns the contents of the secret file at path. It refuses a regular file that group
// or others may read or write (write access lets someone substitute a signing key of their
// own) and anything longer than MaxSize. Pipes and devices are read without the mode check,
// so `--secret-file <(pass show kiosk)` works.
func Read(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Stat the open file, not the path, so the file checked is the file read.
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); fi.Mode().IsRegular() && perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; make it private with: chmod 600 %s", ErrExposed, path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: %s holds more than %d bytes; give the file that holds only the secret", ErrTooLarge, path, MaxSize)
	}
	return b, nil
}
