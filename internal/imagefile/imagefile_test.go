package imagefile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The crafted pictures below are what an attacker hands to "ikdctl qr decode" or "ikdctl face verify": a few hundred
// bytes whose header declares a huge image. They are built here, never committed.

// pngBomb returns a grayscale PNG declaring w×h pixels, with one compressed row of zeros.
func pngBomb(t testing.TB, w, h uint32) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	chunk("IHDR", append(ihdr, 8, 0, 0, 0, 0)) // 8-bit gray, no interlace
	var idat bytes.Buffer
	zw := zlib.NewWriter(&idat)
	zw.Write(make([]byte, 1+min(w, 4096)))
	zw.Close()
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

// jpegBomb returns the start of a baseline JPEG whose frame header declares w×h pixels.
func jpegBomb(w, h uint16) []byte {
	b := []byte{0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 8}
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	b = append(b, 1, 1, 0x11, 0)                                      // one component
	return append(b, 0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0, 0xFF, 0xD9) // scan header, end
}

// webpBomb returns a lossless WebP whose VP8L header declares w×h pixels (at most 16384).
func webpBomb(w, h uint32) []byte {
	vp8l := []byte{0x2F}
	vp8l = binary.LittleEndian.AppendUint32(vp8l, (w-1)|(h-1)<<14)
	vp8l = append(vp8l, 0) // pad to an even chunk
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(4+8+len(vp8l)))
	b = append(b, "WEBPVP8L"...)
	b = binary.LittleEndian.AppendUint32(b, 5)
	return append(b, vp8l...)
}

func TestDecodeRefusesHugeDeclaredSize(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"PNG20000Square", pngBomb(t, 20000, 20000)},
		{"PNGJustOverLimit", pngBomb(t, 7072, 7071)}, // 50 006 112 pixels
		{"PNGOneRowMillionsWide", pngBomb(t, 1<<31-1, 1)},
		{"JPEG65535Square", jpegBomb(65535, 65535)},
		{"WebP16384Square", webpBomb(16384, 16384)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.data) > 1024 {
				t.Fatalf("crafted file is %d bytes; it should stay tiny", len(tt.data))
			}
			_, err := Decode(bytes.NewReader(tt.data))
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("ReadImage: %v; want ErrTooLarge", err)
			}
		})
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	bomb := filepath.Join(dir, "bomb.png")
	if err := os.WriteFile(bomb, pngBomb(t, 20000, 20000), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("Bomb", func(t *testing.T) {
		_, err := Read(bomb)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "20000×20000") {
			t.Fatalf("Read: %v; want ErrTooLarge naming the size", err)
		}
	})
	t.Run("SmallPNGDecodes", func(t *testing.T) {
		small := filepath.Join(dir, "small.png")
		if err := os.WriteFile(small, pngBomb(t, 64, 1), 0o600); err != nil {
			t.Fatal(err)
		}
		img, err := Read(small)
		if err != nil || img.Bounds() != image.Rect(0, 0, 64, 1) {
			t.Fatalf("Read = %v, %v; want a 64×1 image", img, err)
		}
	})
	t.Run("NotAnImage", func(t *testing.T) {
		text := filepath.Join(dir, "note.png")
		if err := os.WriteFile(text, []byte("IKD1:not a picture"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(text); err == nil || !strings.Contains(err.Error(), "not a PNG, JPEG or WebP image") {
			t.Fatalf("Read: %v; want not an image", err)
		}
	})
	t.Run("Missing", func(t *testing.T) {
		if _, err := Read(filepath.Join(dir, "absent.png")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("Read: %v; want not exist", err)
		}
	})
}

// FuzzDecode: whatever the bytes, ReadImage never panics and never returns a picture
// beyond the limit.
func FuzzDecode(f *testing.F) {
	f.Add(pngBomb(f, 20000, 20000))
	f.Add(pngBomb(f, 16, 16))
	f.Add(jpegBomb(65535, 65535))
	f.Add(webpBomb(16384, 16384))
	f.Add(webpBomb(8, 8))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		if b := img.Bounds(); int64(b.Dx())*int64(b.Dy()) > MaxPixels {
			t.Fatalf("decoded a %v picture, beyond the limit", b)
		}
	})
}
