package camera

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"strings"
	"testing"
)

// stripDHT removes every DHT segment before the first scan, the way many webcams send
// their MJPEG frames.
func stripDHT(t testing.TB, data []byte) []byte {
	t.Helper()
	out := append([]byte(nil), data[:2]...)
	pos := 2
	for {
		if data[pos] != 0xff {
			t.Fatalf("byte %d is not a marker", pos)
		}
		m := data[pos+1]
		if m == markerSOS {
			return append(out, data[pos:]...)
		}
		n := int(data[pos+2])<<8 | int(data[pos+3])
		if m != markerDHT {
			out = append(out, data[pos:pos+2+n]...)
		}
		pos += 2 + n
	}
}

func samePixels(t *testing.T, got, want image.Image) {
	t.Helper()
	g, ok1 := got.(*image.YCbCr)
	w, ok2 := want.(*image.YCbCr)
	if !ok1 || !ok2 {
		t.Fatalf("got %T and %T, want *image.YCbCr", got, want)
	}
	if g.Rect != w.Rect || !bytes.Equal(g.Y, w.Y) || !bytes.Equal(g.Cb, w.Cb) || !bytes.Equal(g.Cr, w.Cr) {
		t.Fatal("pixels differ")
	}
}

func TestDecodeMJPEG(t *testing.T) {
	// Go's encoder writes exactly the Annex K.3 tables, so a frame stripped of them must
	// decode to the same pixels once the standard tables are put back.
	full := makeJPEG(t, 64, 48, 200)
	want, err := jpeg.Decode(bytes.NewReader(full))
	if err != nil {
		t.Fatal(err)
	}
	noDHT := stripDHT(t, full)
	if bytes.Contains(noDHT, []byte{0xff, markerDHT}) {
		t.Fatal("fixture still has a DHT segment")
	}
	if _, err := jpeg.Decode(bytes.NewReader(noDHT)); err == nil {
		t.Fatal("fixture without DHT decodes with image/jpeg alone; the test would prove nothing")
	}

	t.Run("WithHuffmanTables", func(t *testing.T) {
		got, err := DecodeMJPEG(full)
		if err != nil {
			t.Fatal(err)
		}
		samePixels(t, got, want)
	})
	t.Run("WithoutHuffmanTables", func(t *testing.T) {
		got, err := DecodeMJPEG(noDHT)
		if err != nil {
			t.Fatal(err)
		}
		samePixels(t, got, want)
	})
	t.Run("TrailingPaddingIgnored", func(t *testing.T) {
		got, err := DecodeMJPEG(append(append([]byte(nil), noDHT...), 0, 0, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		samePixels(t, got, want)
	})
	t.Run("InputNotModified", func(t *testing.T) {
		in := append([]byte(nil), noDHT...)
		if _, err := DecodeMJPEG(in); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(in, noDHT) {
			t.Fatal("DecodeMJPEG changed its input (it may be a driver buffer)")
		}
	})
}

func TestStandardDHTLength(t *testing.T) {
	// 2 length bytes + 4 × (1 class/id + 16 counts) + 12 + 162 + 12 + 162 values = 418,
	// the well-known 0x01A2 segment.
	if got := standardDHT[2:4]; got[0] != 0x01 || got[1] != 0xa2 || len(standardDHT) != 2+0x01a2 {
		t.Fatalf("DHT length field %x, segment %d bytes", got, len(standardDHT))
	}
}

func TestDecodeMJPEGBadInput(t *testing.T) {
	good := makeJPEG(t, 16, 16, 90)
	sos := bytes.Index(good, []byte{0xff, markerSOS})
	tests := []struct {
		name string
		data []byte
	}{
		{"Empty", nil},
		{"NotJPEG", []byte("\x89PNG\r\n\x1a\n")},
		{"OnlySOI", []byte{0xff, 0xd8}},
		{"TruncatedInScan", good[:len(good)-10]},
		{"TruncatedInHeader", good[:sos-3]},
		{"SegmentLengthBeyondData", []byte{0xff, 0xd8, 0xff, 0xe0, 0x40, 0x00, 0x01}},
		{"SegmentLengthTooSmall", []byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0xff, 0xd9}},
		{"NoScan", []byte{0xff, 0xd8, 0xff, 0xd9}},
		{"NestedSOI", []byte{0xff, 0xd8, 0xff, 0xd8, 0xff, 0xd9}},
		{"GarbageBetweenSegments", []byte{0xff, 0xd8, 0x12, 0xff, 0xd9}},
		{"CorruptScanData", corruptScan(good, sos)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeMJPEG(tc.data); !errors.Is(err, ErrBadJPEG) {
				t.Fatalf("err = %v, want ErrBadJPEG", err)
			}
		})
	}
}

// corruptScan overwrites the start of the entropy-coded data with an invalid frame header
// reference, keeping the marker structure intact.
func corruptScan(good []byte, sos int) []byte {
	bad := append([]byte(nil), good...)
	// The SOS header's first component selector: point it at a component that does not exist.
	bad[sos+5] = 0x77
	return bad
}

func TestSplitMJPEG(t *testing.T) {
	a, b, c := makeJPEG(t, 16, 8, 10), makeJPEG(t, 8, 8, 120), makeJPEG(t, 24, 16, 250)
	// An APP1 segment carrying bytes that look like EOI and SOI, as an EXIF thumbnail does.
	exif := []byte{0xff, 0xe1, 0x00, 0x08, 0xff, 0xd9, 0xff, 0xd8, 0x00, 0x00}
	withThumb := append(append(append([]byte(nil), a[:2]...), exif...), a[2:]...)

	t.Run("ThreeFrames", func(t *testing.T) {
		stream := bytes.Join([][]byte{a, b, c}, nil)
		frames, err := SplitMJPEG(stream)
		if err != nil {
			t.Fatal(err)
		}
		if len(frames) != 3 || !bytes.Equal(frames[0], a) || !bytes.Equal(frames[1], b) || !bytes.Equal(frames[2], c) {
			t.Fatalf("got %d frames, want the 3 originals", len(frames))
		}
	})
	t.Run("EOIInsideAppSegment", func(t *testing.T) {
		frames, err := SplitMJPEG(append(append([]byte(nil), withThumb...), b...))
		if err != nil {
			t.Fatal(err)
		}
		if len(frames) != 2 || !bytes.Equal(frames[0], withThumb) {
			t.Fatalf("got %d frames; the APP segment's FFD9 must not end the first", len(frames))
		}
		if _, err := DecodeMJPEG(frames[0]); err != nil {
			t.Fatalf("frame with APP1: %v", err)
		}
	})
	t.Run("RestartMarkersAndStuffingInScan", func(t *testing.T) {
		// FF 00 and FF D0 inside scan data are not the end of the scan.
		f := []byte{0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0xff, 0xd9}
		frames, err := SplitMJPEG(append(append([]byte(nil), f...), f...))
		if err != nil || len(frames) != 2 || len(frames[0]) != len(f) {
			t.Fatalf("got %d frames, %v; want 2 of %d bytes", len(frames), err, len(f))
		}
	})

	bad := []struct {
		name string
		data []byte
	}{
		{"Empty", nil},
		{"TrailingGarbage", append(append([]byte(nil), a...), "junk"...)},
		{"TruncatedLastFrame", append(append([]byte(nil), a...), b[:len(b)/2]...)},
		{"NotJPEG", []byte("--boundary\r\nContent-Type: image/jpeg\r\n\r\n")},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if frames, err := SplitMJPEG(tc.data); !errors.Is(err, ErrBadJPEG) {
				t.Fatalf("got %d frames, err %v; want ErrBadJPEG", len(frames), err)
			}
		})
	}
}

func TestDecodeMJPEGRefusesHugeFrame(t *testing.T) {
	data := makeJPEG(t, 16, 16, 90)
	sof := bytes.Index(data, []byte{0xff, 0xc0})
	if sof < 0 {
		t.Fatal("no SOF0 in fixture")
	}
	huge := append([]byte(nil), data...)
	// SOF0: FF C0 Lh Ll P Yh Yl Xh Xl — claim 60000x60000.
	huge[sof+5], huge[sof+6], huge[sof+7], huge[sof+8] = 0xea, 0x60, 0xea, 0x60
	if _, err := DecodeMJPEG(huge); !errors.Is(err, ErrBadJPEG) || !strings.Contains(err.Error(), "60000x60000") {
		t.Fatalf("err = %v, want ErrBadJPEG naming the size", err)
	}
}

// benchJPEG encodes a w×h 4:2:0 picture with gradients and mild noise, roughly the
// entropy of a webcam frame.
func benchJPEG(b *testing.B, w, h int) []byte {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	noise := randomBytes(len(img.Y), 3)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Y[y*img.YStride+x] = byte((x+y)/8) + noise[y*w+x]%16
		}
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = byte(100+i%40), byte(140-i%30)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkDecodeMJPEG(b *testing.B) {
	for _, sz := range benchSizes {
		full := benchJPEG(b, sz.Width, sz.Height)
		for name, data := range map[string][]byte{"WithDHT": full, "WithoutDHT": stripDHT(b, full)} {
			b.Run(sz.String()+"/"+name, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if _, err := DecodeMJPEG(data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
