package dlib

// #cgo CXXFLAGS: -std=c++17 -O3 -DNDEBUG
// #cgo LDFLAGS: -ldlib -lblas -lcblas -llapack
// #include <stdlib.h>
// #include "hogdetect.h"
import "C"

import (
	"errors"
	"fmt"
	"image"
	"runtime"
	"unsafe"
)

// maxBoxes bounds the boxes copied out of one detection: the analyzer only tells one face
// from several.
const maxBoxes = 16

// hogDetector is dlib's frontal face detector without the landmark and descriptor stages.
type hogDetector struct{ p *C.hog_detector }

func newHOGDetector() (*hogDetector, error) {
	p := C.hog_new()
	if p == nil {
		return nil, errors.New("dlib: cannot build the HOG face detector")
	}
	return &hogDetector{p: p}, nil
}

// detect returns boxes counted from img.Rect.Min, as go-face reports them.
func (d *hogDetector) detect(img *image.YCbCr) ([]image.Rectangle, error) {
	r := img.Rect
	if r.Empty() {
		return nil, errors.New("dlib detect: empty image")
	}
	sx, sy, ok := chromaShift(img.SubsampleRatio)
	if !ok {
		return nil, fmt.Errorf("dlib detect: unsupported chroma subsampling %v", img.SubsampleRatio)
	}
	var pin runtime.Pinner
	defer pin.Unpin()
	m := cImage(img, sx, sy, &pin)
	var out [4 * maxBoxes]C.long
	var n C.int
	var cerr *C.char
	if C.hog_detect(d.p, m, &out[0], maxBoxes, &n, &cerr) != 0 {
		msg := "unknown error"
		if cerr != nil {
			msg = C.GoString(cerr)
			C.free(unsafe.Pointer(cerr))
		}
		return nil, fmt.Errorf("dlib detect: %s", msg)
	}
	boxes := make([]image.Rectangle, min(int(n), maxBoxes))
	for i := range boxes {
		boxes[i] = image.Rect(int(out[4*i]), int(out[4*i+1]), int(out[4*i+2]), int(out[4*i+3]))
	}
	return boxes, nil
}

func (d *hogDetector) close() {
	if d.p != nil {
		C.hog_free(d.p)
		d.p = nil
	}
}

// cImage describes img's planes to C. They go inside a struct, which cgo allows only for
// pinned memory.
func cImage(img *image.YCbCr, sx, sy int, pin *runtime.Pinner) *C.ycbcr {
	r := img.Rect
	y, cb, cr := &img.Y[img.YOffset(r.Min.X, r.Min.Y)], &img.Cb[img.COffset(r.Min.X, r.Min.Y)], &img.Cr[img.COffset(r.Min.X, r.Min.Y)]
	pin.Pin(y)
	pin.Pin(cb)
	pin.Pin(cr)
	return &C.ycbcr{
		y: (*C.uint8_t)(unsafe.Pointer(y)), cb: (*C.uint8_t)(unsafe.Pointer(cb)), cr: (*C.uint8_t)(unsafe.Pointer(cr)),
		w: C.int(r.Dx()), h: C.int(r.Dy()), y_stride: C.int(img.YStride), c_stride: C.int(img.CStride),
		ox: C.int(r.Min.X), oy: C.int(r.Min.Y), cshift_x: C.int(sx), cshift_y: C.int(sy),
	}
}

// packedRGB is img as the detector sees it (for tests of the conversion).
func packedRGB(img *image.YCbCr) ([]byte, error) {
	sx, sy, ok := chromaShift(img.SubsampleRatio)
	if !ok || img.Rect.Empty() {
		return nil, errors.New("packed RGB: unsupported image")
	}
	var pin runtime.Pinner
	defer pin.Unpin()
	out := make([]byte, 3*img.Rect.Dx()*img.Rect.Dy())
	C.ycbcr_to_rgb(cImage(img, sx, sy, &pin), (*C.uint8_t)(unsafe.Pointer(&out[0])))
	return out, nil
}
