package facebench

// #cgo CXXFLAGS: -std=c++17 -O3 -DNDEBUG
// #cgo LDFLAGS: -ldlib -lblas -lcblas -llapack
// #include <stdlib.h>
// #include "dlibstages.h"
import "C"

import (
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"unsafe"

	"github.com/ikd-field/ikd/kiosk/face"
)

// dlibStages runs the landmark model and the descriptor network one at a time.
type dlibStages struct{ p *C.stages }

func loadStages(modelDir string) (*dlibStages, error) {
	sp := C.CString(filepath.Join(modelDir, face.ShapePredictorFile))
	defer C.free(unsafe.Pointer(sp))
	net := C.CString(filepath.Join(modelDir, face.RecognitionFile))
	defer C.free(unsafe.Pointer(net))
	var cerr *C.char
	p := C.stages_load(sp, net, &cerr)
	if p == nil {
		return nil, fmt.Errorf("load models for stage timing: %w", takeErr(cerr))
	}
	return &dlibStages{p: p}, nil
}

func takeErr(cerr *C.char) error {
	if cerr == nil {
		return errors.New("dlib failed")
	}
	defer C.free(unsafe.Pointer(cerr))
	return errors.New(C.GoString(cerr))
}

// setImage hands dlib a packed RGB copy of m.
func (s *dlibStages) setImage(m image.Image) {
	b := m.Bounds()
	buf := make([]byte, 0, b.Dx()*b.Dy()*3)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := m.At(x, y).RGBA()
			buf = append(buf, byte(r>>8), byte(g>>8), byte(bl>>8))
		}
	}
	C.stages_set_image(s.p, (*C.uint8_t)(unsafe.Pointer(&buf[0])), C.int(b.Dx()), C.int(b.Dy()))
}

// landmarks returns the shape's points as x, y pairs (5 or 68 of them).
func (s *dlibStages) landmarks(box image.Rectangle) ([]C.long, error) {
	var out [2 * 68]C.long
	var n C.int
	var cerr *C.char
	if C.stages_landmarks(s.p, C.long(box.Min.X), C.long(box.Min.Y), C.long(box.Max.X), C.long(box.Max.Y), &out[0], &n, &cerr) != 0 {
		return nil, fmt.Errorf("landmarks: %w", takeErr(cerr))
	}
	return out[:2*n], nil
}

func (s *dlibStages) descriptor(pts []C.long) (face.Descriptor, error) {
	var out [128]C.float
	var cerr *C.char
	if C.stages_descriptor(s.p, &pts[0], C.int(len(pts)/2), &out[0], &cerr) != 0 {
		return face.Descriptor{}, fmt.Errorf("descriptor: %w", takeErr(cerr))
	}
	var d face.Descriptor
	for i, v := range out {
		d[i] = float32(v)
	}
	return d, nil
}

func (s *dlibStages) close() { C.stages_free(s.p) }
