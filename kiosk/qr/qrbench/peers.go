package qrbench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Peer is a command-line QR reader the scanner is compared with. It reads one image file
// per run, so its time per frame includes process start-up.
type Peer struct {
	Name    string
	Command string   // looked up in PATH
	Args    []string // before the file name
	// Text extracts the decoded text from the command's standard output ("" = nothing read).
	Text func(stdout []byte) string
}

// Peers returns zbar's zbarimg and zxing-cpp's ZXingReader, reading QR codes only.
func Peers() []Peer {
	return []Peer{
		{
			Name: "zbar", Command: "zbarimg",
			Args: []string{"-q", "--raw", "--nodbus", "-Sdisable", "-Sqrcode.enable"},
			Text: func(out []byte) string { return strings.TrimSuffix(string(out), "\n") },
		},
		{
			Name: "zxing-cpp", Command: "ZXingReader",
			Args: []string{"-format", "QRCode", "-bytes"},
			Text: func(out []byte) string { return string(out) },
		},
	}
}

// ErrPeerMissing reports a peer command that is not installed.
var ErrPeerMissing = errors.New("peer not installed")

// path returns the peer's executable or an error matching ErrPeerMissing.
func (p Peer) path() (string, error) {
	path, err := exec.LookPath(p.Command)
	if err != nil {
		return "", fmt.Errorf("%s (%s): %w", p.Name, p.Command, ErrPeerMissing)
	}
	return path, nil
}

// ReadFile runs the peer on an image file and returns what it decoded ("" = nothing).
func (p Peer) ReadFile(ctx context.Context, file string) (string, error) {
	exe, err := p.path()
	if err != nil {
		return "", err
	}
	return p.read(ctx, exe, file)
}

// read runs the peer on file and returns what it decoded. A peer that finds nothing exits
// non-zero (zbarimg) or prints nothing (ZXingReader); both read as "".
func (p Peer) read(ctx context.Context, exe, file string) (string, error) {
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, exe, append(append([]string(nil), p.Args...), file)...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return "", fmt.Errorf("run %s: %w", p.Command, err)
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	return p.Text(out.Bytes()), nil
}

// writePNG stores img for the peers, with fast compression (the peers' time is measured,
// not ours).
func writePNG(dir, name string, img image.Image) (string, error) {
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("write frame: %w", err)
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		return "", fmt.Errorf("encode frame %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write frame: %w", err)
	}
	return path, nil
}
