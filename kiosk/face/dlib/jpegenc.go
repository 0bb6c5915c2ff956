package dlib

// #cgo CFLAGS: -O2
// #cgo LDFLAGS: -ljpeg
// #include <stdlib.h>
// #include "jpegenc.h"
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"unsafe"
)

// go-face only accepts JPEG bytes (and only 3-component JPEGs: it rejects grey ones), so
// every frame handed to dlib is encoded first. libjpeg-turbo, which go-face links anyway,
// encodes the YCbCr planes directly, with no colour conversion: 640×360 at quality 90 takes
// about a quarter of the time of Go's image/jpeg (BenchmarkEncodeJPEG640x360 against
// BenchmarkGoImageJPEG640x360).

// encodeJPEG encodes m at quality q.
func encodeJPEG(m *image.YCbCr, q int) ([]byte, error) {
	r := m.Rect
	if r.Empty() {
		return nil, errors.New("encode frame for dlib: empty image")
	}
	sx, sy, ok := chromaShift(m.SubsampleRatio)
	if !ok || r.Min.X < 0 || r.Min.Y < 0 {
		// Rare layouts (4:1:1, negative origins) take Go's encoder.
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: q}); err != nil {
			return nil, fmt.Errorf("encode frame for dlib: %w", err)
		}
		return buf.Bytes(), nil
	}
	w, h := r.Dx(), r.Dy()
	needY := (h-1)*m.YStride + w
	needC := ((r.Max.Y-1)>>sy-r.Min.Y>>sy)*m.CStride + ((r.Max.X-1)>>sx - r.Min.X>>sx) + 1
	if len(m.Y) < needY || len(m.Cb) < needC || len(m.Cr) < needC || m.YStride < w {
		return nil, fmt.Errorf("encode frame for dlib: malformed YCbCr image (planes %d/%d/%d bytes for %v)", len(m.Y), len(m.Cb), len(m.Cr), r)
	}
	var (
		out    *C.uchar
		outLen C.ulong
		msg    [256]C.char
	)
	rc := C.ikd_encode_ycbcr(
		(*C.uint8_t)(unsafe.Pointer(&m.Y[0])), C.int(m.YStride),
		(*C.uint8_t)(unsafe.Pointer(&m.Cb[0])), (*C.uint8_t)(unsafe.Pointer(&m.Cr[0])), C.int(m.CStride),
		C.int(r.Min.X), C.int(r.Min.Y), C.int(w), C.int(h), C.int(sx), C.int(sy), C.int(q),
		&out, &outLen, &msg[0], C.size_t(len(msg)))
	if rc != 0 {
		return nil, fmt.Errorf("encode frame for dlib: %s", C.GoString(&msg[0]))
	}
	defer C.free(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), C.int(outLen)), nil
}

// chromaShift returns the log2 chroma subsampling of a ratio the libjpeg path handles.
func chromaShift(r image.YCbCrSubsampleRatio) (sx, sy int, ok bool) {
	switch r {
	case image.YCbCrSubsampleRatio444:
		return 0, 0, true
	case image.YCbCrSubsampleRatio422:
		return 1, 0, true
	case image.YCbCrSubsampleRatio420:
		return 1, 1, true
	case image.YCbCrSubsampleRatio440:
		return 0, 1, true
	}
	return 0, 0, false
}
