package sync

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteBundleFile writes a bundle to path so that the file is either the whole bundle or
// absent: a temporary file beside it, synced, then renamed over path. A stick pulled out in
// the middle leaves no half bundle under the bundle's name.
func WriteBundleFile(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write bundle %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // the rename itself durable, where the file system allows it
		d.Close()
	}
	return nil
}

// ReadBundleFile reads a bundle of at most MaxBundleBytes from path.
func ReadBundleFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxBundleBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read bundle %s: %w", path, err)
	}
	if len(b) > MaxBundleBytes {
		return nil, ErrBundleMalformed.With(fmt.Errorf("%s is larger than %d bytes", path, MaxBundleBytes))
	}
	return b, nil
}
