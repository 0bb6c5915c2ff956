package camera

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// makePNG encodes a small grey picture of luminance y.
func makePNG(t *testing.T, y byte) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 12, 8))
	for i := range img.Pix {
		img.Pix[i] = y
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// playLuma plays n frames and returns their top-left luminance and checks Seq.
func playLuma(t *testing.T, r *Replay, n int) []byte {
	t.Helper()
	var got []byte
	for i := 0; i < n; i++ {
		f, err := r.Next(context.Background())
		if err != nil {
			t.Fatalf("frame %d: %v", i+1, err)
		}
		if f.Seq != uint64(i+1) {
			t.Fatalf("frame %d has seq %d", i+1, f.Seq)
		}
		got = append(got, color.GrayModel.Convert(f.Image.At(0, 0)).(color.Gray).Y)
	}
	return got
}

func near(got, want []byte) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if d := int(got[i]) - int(want[i]); d < -3 || d > 3 {
			return false
		}
	}
	return true
}

func TestReplayDirectory(t *testing.T) {
	dir := t.TempDir()
	// Written out of order, mixed formats and case, plus files that are not frames.
	writeFile(t, filepath.Join(dir, "frame-003.PNG"), makePNG(t, 30))
	writeFile(t, filepath.Join(dir, "frame-001.png"), makePNG(t, 10))
	writeFile(t, filepath.Join(dir, "frame-002.jpg"), makeJPEG(t, 16, 16, 20))
	writeFile(t, filepath.Join(dir, "notes.txt"), []byte("recorded at counter 3"))
	if err := os.Mkdir(filepath.Join(dir, "sub.png"), 0o755); err != nil {
		t.Fatal(err)
	}

	t.Run("PlaysInNameOrderAndLoops", func(t *testing.T) {
		r, err := OpenReplay(dir, ReplayOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if r.Len() != 3 {
			t.Fatalf("Len = %d, want 3", r.Len())
		}
		if got, want := playLuma(t, r, 7), []byte{10, 20, 30, 10, 20, 30, 10}; !near(got, want) {
			t.Fatalf("luminance %v, want %v", got, want)
		}
	})
	t.Run("OnceEndsWithEOF", func(t *testing.T) {
		r, err := OpenReplay(dir, ReplayOptions{Once: true})
		if err != nil {
			t.Fatal(err)
		}
		playLuma(t, r, 3)
		if _, err := r.Next(context.Background()); !errors.Is(err, io.EOF) {
			t.Fatalf("after the last frame: %v, want io.EOF", err)
		}
	})
	t.Run("PacedPlaybackHonoursContext", func(t *testing.T) {
		r, err := OpenReplay(dir, ReplayOptions{FPS: 0.001}) // one frame per 1000 s
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		if _, err := r.Next(ctx); err != nil {
			t.Fatalf("first frame is due at once: %v", err)
		}
		cancel()
		if _, err := r.Next(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("second frame: %v, want context.Canceled", err)
		}
	})
	t.Run("PacedPlaybackDelivers", func(t *testing.T) {
		r, err := OpenReplay(dir, ReplayOptions{FPS: 500})
		if err != nil {
			t.Fatal(err)
		}
		if got := playLuma(t, r, 4); !near(got, []byte{10, 20, 30, 10}) {
			t.Fatalf("luminance %v", got)
		}
	})
}

func TestReplayMJPEGFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "counter.mjpeg")
	// The middle frame lacks Huffman tables, as webcam recordings often do.
	writeFile(t, file, bytes.Join([][]byte{
		makeJPEG(t, 16, 16, 40), stripDHT(t, makeJPEG(t, 16, 16, 140)), makeJPEG(t, 16, 16, 240),
	}, nil))
	r, err := OpenReplay(file, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := playLuma(t, r, 4), []byte{40, 140, 240, 40}; !near(got, want) {
		t.Fatalf("luminance %v, want %v", got, want)
	}
}

func TestReplayErrors(t *testing.T) {
	good := makeJPEG(t, 16, 16, 50)
	goodPNG := makePNG(t, 50)
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the path to open
		is    error
		names string // text the error must contain, besides the temp dir
	}{
		{"EmptyDirectory", func(t *testing.T, dir string) string { return dir }, ErrEmptyReplay, ""},
		{"DirectoryWithoutImages", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "readme.txt"), []byte("x"))
			return dir
		}, ErrEmptyReplay, ""},
		{"MissingPath", func(t *testing.T, dir string) string { return filepath.Join(dir, "nope") }, fs.ErrNotExist, "nope"},
		{"CorruptPNG", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "a.png"), goodPNG)
			writeFile(t, filepath.Join(dir, "b.png"), []byte("not a png at all"))
			return dir
		}, nil, "b.png"},
		{"HugePNG", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "a.png"), withPNGSize(t, goodPNG, 20000, 20000))
			return dir
		}, nil, "a.png: bad PNG: frame size 20000x20000 out of range"},
		{"TruncatedJPEG", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "a.jpg"), good[:len(good)/2])
			return dir
		}, ErrBadJPEG, "a.jpg"},
		{"UnreadableFile", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "a.png"), goodPNG)
			if err := os.Symlink(filepath.Join(dir, "gone.png"), filepath.Join(dir, "b.png")); err != nil {
				t.Fatal(err)
			}
			return dir
		}, fs.ErrNotExist, "b.png"},
		{"EmptyMJPEGFile", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "empty.mjpeg")
			writeFile(t, p, nil)
			return p
		}, ErrEmptyReplay, "empty.mjpeg"},
		{"MJPEGWithGarbage", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "rec.mjpeg")
			writeFile(t, p, append(append(append([]byte(nil), good...), good...), "garbage"...))
			return p
		}, ErrBadJPEG, "rec.mjpeg: frame 3"},
		{"NegativeFPS", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "a.png"), goodPNG)
			return dir
		}, nil, "negative frame rate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.setup(t, t.TempDir())
			opt := ReplayOptions{}
			if tc.name == "NegativeFPS" {
				opt.FPS = -1
			}
			r, err := OpenReplay(path, opt)
			if err == nil {
				t.Fatalf("opened %d frames, want an error", r.Len())
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.names) {
				t.Errorf("err = %v, want it to name %q", err, tc.names)
			}
		})
	}
}

func TestReplayFrameCorruptAfterHeader(t *testing.T) {
	// The header is valid, so OpenReplay accepts the file; the damage shows when the frame
	// is decoded, and the error still names the file.
	dir := t.TempDir()
	p := makePNG(t, 50)
	writeFile(t, filepath.Join(dir, "a.png"), p[:len(p)-20])
	r, err := OpenReplay(dir, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(context.Background()); err == nil || !strings.Contains(err.Error(), "a.png") {
		t.Fatalf("err = %v, want a decode error naming a.png", err)
	}
}

// withPNGSize returns a copy of a PNG whose header declares w×h pixels (the IHDR chunk's CRC
// recomputed): what a decompression bomb in a replay folder looks like.
func withPNGSize(t *testing.T, p []byte, w, h uint32) []byte {
	t.Helper()
	b := bytes.Clone(p)
	if len(b) < 33 || string(b[12:16]) != "IHDR" {
		t.Fatal("not a PNG with IHDR first")
	}
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}
