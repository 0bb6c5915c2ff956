package secretfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeMode writes data to a fresh file and sets mode exactly (os.WriteFile is subject to the
// umask). The checks are on mode bits, so they hold when the tests run as root, who could
// read the file anyway.
func writeMode(t *testing.T, data []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRead(t *testing.T) {
	secret := []byte("rahasia-kiosk\n")
	tests := []struct {
		name    string
		path    string
		want    []byte
		wantErr error
		wantMsg string // part of the error text
	}{
		{"PrivateFile", writeMode(t, secret, 0o600), secret, nil, ""},
		{"OwnerReadOnly", writeMode(t, secret, 0o400), secret, nil, ""},
		{"ExactlyMaxSize", writeMode(t, bytes.Repeat([]byte{'a'}, MaxSize), 0o600), bytes.Repeat([]byte{'a'}, MaxSize), nil, ""},
		{"WorldReadable", writeMode(t, secret, 0o644), nil, ErrExposed, "chmod 600"},
		{"GroupReadable", writeMode(t, secret, 0o640), nil, ErrExposed, "mode 0640"},
		{"WorldWritable", writeMode(t, secret, 0o602), nil, ErrExposed, "chmod 600"},
		{"OneByteOverMaxSize", writeMode(t, bytes.Repeat([]byte{'a'}, MaxSize+1), 0o600), nil, ErrTooLarge, "more than 4096 bytes"},
		{"DevZero", "/dev/zero", nil, ErrTooLarge, "/dev/zero"},
		{"Missing", filepath.Join(t.TempDir(), "absent"), nil, fs.ErrNotExist, "absent"},
		{"Directory", t.TempDir(), nil, nil, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(tt.path)
			if tt.wantMsg == "" {
				if err != nil || !bytes.Equal(got, tt.want) {
					t.Fatalf("Read = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Read: %v; want %v containing %q", err, tt.wantErr, tt.wantMsg)
			}
		})
	}
}

func TestExposedFileMessageNamesTheFix(t *testing.T) {
	p := writeMode(t, []byte("123456"), 0o644)
	_, err := Read(p)
	if want := "chmod 600 " + p; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Read: %v; want the fix %q", err, want)
	}
}
