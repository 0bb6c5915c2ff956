package camera

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
)

// ErrBadJPEG is returned for a JPEG frame whose marker structure is broken or that does
// not decode.
var ErrBadJPEG = errors.New("bad JPEG frame")

// JPEG markers used while walking a frame.
const (
	markerSOI  = 0xd8
	markerEOI  = 0xd9
	markerSOS  = 0xda
	markerDHT  = 0xc4
	markerRST0 = 0xd0
	markerRST7 = 0xd7
	markerTEM  = 0x01
)

// jpegLayout is what walking one JPEG's markers tells us.
type jpegLayout struct {
	end    int  // offset just past EOI
	hasDHT bool // a Huffman table segment appears before the first scan
	sos    int  // offset of the first SOS marker
}

// scanJPEG walks the marker segments of the JPEG at the start of data, skipping
// entropy-coded scan data, without decoding. It finds where the image ends even when an
// APP segment (an EXIF thumbnail, say) contains its own FFD9.
func scanJPEG(data []byte) (jpegLayout, error) {
	l := jpegLayout{sos: -1}
	if len(data) < 2 || data[0] != 0xff || data[1] != markerSOI {
		return l, fmt.Errorf("%w: does not start with SOI (FF D8)", ErrBadJPEG)
	}
	pos := 2
	for {
		if pos >= len(data) {
			return l, fmt.Errorf("%w: truncated at byte %d (no EOI)", ErrBadJPEG, len(data))
		}
		if data[pos] != 0xff {
			return l, fmt.Errorf("%w: byte %d is %#02x, want a marker", ErrBadJPEG, pos, data[pos])
		}
		// Any number of 0xFF fill bytes may precede a marker.
		for pos < len(data) && data[pos] == 0xff {
			pos++
		}
		if pos >= len(data) {
			return l, fmt.Errorf("%w: truncated at byte %d (no EOI)", ErrBadJPEG, len(data))
		}
		m := data[pos]
		markerAt := pos - 1
		pos++
		switch {
		case m == markerEOI:
			l.end = pos
			return l, nil
		case m == markerSOI || m == 0x00:
			return l, fmt.Errorf("%w: unexpected marker FF %02X at byte %d", ErrBadJPEG, m, markerAt)
		case m == markerTEM || m >= markerRST0 && m <= markerRST7:
			continue // standalone markers carry no length
		}
		if pos+2 > len(data) {
			return l, fmt.Errorf("%w: truncated segment FF %02X at byte %d", ErrBadJPEG, m, markerAt)
		}
		n := int(data[pos])<<8 | int(data[pos+1])
		if n < 2 || pos+n > len(data) {
			return l, fmt.Errorf("%w: segment FF %02X at byte %d has length %d beyond the data", ErrBadJPEG, m, markerAt, n)
		}
		pos += n
		switch m {
		case markerDHT:
			if l.sos < 0 {
				l.hasDHT = true
			}
		case markerSOS:
			if l.sos < 0 {
				l.sos = markerAt
			}
			pos = skipEntropyData(data, pos)
		}
	}
}

// skipEntropyData returns the offset of the first marker after scan data starting at pos:
// an 0xFF followed by neither 0x00 (a stuffed byte) nor a restart marker.
func skipEntropyData(data []byte, pos int) int {
	for {
		i := bytes.IndexByte(data[pos:], 0xff)
		if i < 0 || pos+i+1 >= len(data) {
			return len(data)
		}
		pos += i
		next := data[pos+1]
		if next == 0x00 || next >= markerRST0 && next <= markerRST7 {
			pos += 2
			continue
		}
		if next == 0xff {
			pos++ // fill byte; the marker follows
			continue
		}
		return pos
	}
}

// SplitMJPEG splits an MJPEG stream (JPEG images back to back) into frames. The frames
// share data's memory.
func SplitMJPEG(data []byte) ([][]byte, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty MJPEG stream", ErrBadJPEG)
	}
	var frames [][]byte
	for off := 0; off < len(data); {
		l, err := scanJPEG(data[off:])
		if err != nil {
			return nil, fmt.Errorf("frame %d at byte %d: %w", len(frames)+1, off, err)
		}
		frames = append(frames, data[off:off+l.end:off+l.end])
		off += l.end
	}
	return frames, nil
}

// DecodeMJPEG decodes one motion-JPEG frame. Many webcams omit the Huffman tables (the
// AVI1 convention: decoders must assume the standard tables of JPEG Annex K.3); for
// those the standard DHT segment is inserted before the first scan.
func DecodeMJPEG(frame []byte) (image.Image, error) {
	l, err := scanJPEG(frame)
	if err != nil {
		return nil, err
	}
	if l.sos < 0 {
		return nil, fmt.Errorf("%w: no image scan (SOS)", ErrBadJPEG)
	}
	data := frame[:l.end]
	if !l.hasDHT {
		withDHT := make([]byte, 0, len(data)+len(standardDHT))
		withDHT = append(withDHT, data[:l.sos]...)
		withDHT = append(withDHT, standardDHT...)
		data = append(withDHT, data[l.sos:]...)
	}
	// The header's size decides the allocation; refuse absurd sizes before decoding.
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadJPEG, err)
	}
	if cfg.Width > maxSide || cfg.Height > maxSide {
		return nil, fmt.Errorf("%w: frame size %dx%d out of range", ErrBadJPEG, cfg.Width, cfg.Height)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadJPEG, err)
	}
	return img, nil
}

// standardDHT is a DHT segment holding the four tables of JPEG Annex K.3.
var standardDHT = buildDHT([]huffmanTable{
	{class: 0, id: 0, counts: [16]byte{0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0},
		values: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
	{class: 1, id: 0, counts: [16]byte{0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d},
		values: []byte{
			0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
			0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
			0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
			0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
			0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
			0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
			0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
			0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
			0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
			0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
			0xf9, 0xfa,
		}},
	{class: 0, id: 1, counts: [16]byte{0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0},
		values: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
	{class: 1, id: 1, counts: [16]byte{0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77},
		values: []byte{
			0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
			0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
			0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
			0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
			0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
			0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
			0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
			0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
			0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
			0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
			0xf9, 0xfa,
		}},
})

// huffmanTable is one table of a DHT segment: class 0 is DC, 1 is AC.
type huffmanTable struct {
	class, id byte
	counts    [16]byte // number of codes of each length 1..16
	values    []byte
}

func buildDHT(tables []huffmanTable) []byte {
	n := 2
	for _, t := range tables {
		n += 1 + 16 + len(t.values)
	}
	seg := []byte{0xff, markerDHT, byte(n >> 8), byte(n)}
	for _, t := range tables {
		seg = append(seg, t.class<<4|t.id)
		seg = append(seg, t.counts[:]...)
		seg = append(seg, t.values...)
	}
	return seg
}
