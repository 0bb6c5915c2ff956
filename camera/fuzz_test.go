package camera

import (
	"bytes"
	"errors"
	"testing"
)

// Fuzz targets for the parsers that read outside input: camera buffers and recordings.
// Run e.g. go test -fuzz FuzzSplitMJPEG -fuzztime 1m ./camera

func FuzzSplitMJPEG(f *testing.F) {
	a, b := makeJPEG(f, 16, 8, 10), makeJPEG(f, 8, 8, 200)
	f.Add(append(append([]byte(nil), a...), b...))
	f.Add(a[:len(a)-3])
	f.Add([]byte{0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0xff, 0x00, 0xff, 0xd0, 0xff, 0xff, 0xd9})
	f.Add([]byte{0xff, 0xd8, 0xff, 0xe1, 0x00, 0x04, 0xff, 0xd9, 0xff, 0xd9})
	f.Fuzz(func(t *testing.T, data []byte) {
		frames, err := SplitMJPEG(data)
		if err != nil {
			if !errors.Is(err, ErrBadJPEG) {
				t.Fatalf("error %v does not wrap ErrBadJPEG", err)
			}
			return
		}
		// The frames tile the input exactly, each from SOI to EOI.
		if !bytes.Equal(bytes.Join(frames, nil), data) {
			t.Fatal("frames do not add up to the input")
		}
		for i, fr := range frames {
			if !bytes.HasPrefix(fr, []byte{0xff, markerSOI}) || !bytes.HasSuffix(fr, []byte{0xff, markerEOI}) {
				t.Fatalf("frame %d is not SOI..EOI", i)
			}
		}
	})
}

func FuzzDecodeMJPEG(f *testing.F) {
	full := makeJPEG(f, 16, 16, 99)
	f.Add(full)
	f.Add(stripDHT(f, full))
	f.Add([]byte{0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0xff, 0xd9})
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := DecodeMJPEG(data)
		if err != nil {
			if !errors.Is(err, ErrBadJPEG) {
				t.Fatalf("error %v does not wrap ErrBadJPEG", err)
			}
			return
		}
		if img.Bounds().Empty() {
			t.Fatal("decoded an empty image without an error")
		}
	})
}

func FuzzYUYV(f *testing.F) {
	f.Add(yuyvFrame(10), 8, 4)
	f.Add(yuyvFrame(10)[:63], 8, 4)
	f.Add([]byte{1, 2, 3, 4}, 2, 1)
	f.Add([]byte{1, 2, 3, 4}, 1, 2)
	f.Add([]byte{}, 0, 0)
	f.Add([]byte{1, 2, 3, 4}, -2, -1)
	f.Fuzz(func(t *testing.T, data []byte, w, h int) {
		yc, err := YUYVToYCbCr(data, w, h)
		g, gerr := YUYVToGray(data, w, h)
		if (err == nil) != (gerr == nil) {
			t.Fatalf("colour and grey paths disagree: %v vs %v", err, gerr)
		}
		if err != nil {
			if !errors.Is(err, ErrBadYUYV) || !errors.Is(gerr, ErrBadYUYV) {
				t.Fatalf("errors %v, %v do not wrap ErrBadYUYV", err, gerr)
			}
			return
		}
		if len(data) != w*h*2 {
			t.Fatalf("accepted %d bytes for %dx%d", len(data), w, h)
		}
		if !bytes.Equal(yc.Y, g.Pix) || !bytes.Equal(yc.Y, naiveYUYV(data, w, h).Y) {
			t.Fatal("Y planes disagree")
		}
	})
}
