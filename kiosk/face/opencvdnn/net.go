// Package opencvdnn runs ONNX face networks with OpenCV's DNN module from Debian
// (libopencv-dnn-dev 4.6) through a small C shim; it implements face.Network. It is the
// second of the two cgo face adapters (the other is kiosk/face/dlib): alignment, the input
// tensor and every decision stay in pure Go.
package opencvdnn

// #cgo CXXFLAGS: -std=c++17 -I/usr/include/opencv4 -O2
// #cgo LDFLAGS: -lopencv_dnn -lopencv_core
// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/ikd-field/ikd/kiosk/face"
)

// Net is one loaded network with a fixed input shape (1×C×H×W) and output length. OpenCV's
// Net is not safe for concurrent forward passes, so calls take a lock.
type Net struct {
	mu      sync.Mutex
	p       *C.ikd_net
	c, h, w int
	outLen  int
}

var _ face.Network = (*Net)(nil)

const errLen = 512

// Load reads the ONNX file at path for inputs of shape 1×c×h×w and outputs of outLen values
// (0: as many as a probe pass gives).
func Load(path string, c, h, w, outLen int) (*Net, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var buf [errLen]C.char
	p := C.ikd_net_load(cpath, &buf[0], errLen)
	if p == nil {
		return nil, fmt.Errorf("opencv dnn: load %s: %s", path, C.GoString(&buf[0]))
	}
	n := &Net{p: p, c: c, h: h, w: w, outLen: outLen}
	// A probe pass finds a network that does not take this input or whose output is not the
	// expected length now, not at the counter.
	in := make([]float32, c*h*w)
	var one [1]C.float
	got := C.ikd_net_run(p, (*C.float)(unsafe.Pointer(&in[0])), 1, C.int(c), C.int(h), C.int(w), &one[0], 1, &buf[0], errLen)
	switch {
	case got < 0:
		n.Close()
		return nil, fmt.Errorf("opencv dnn: %s: probe pass: %s", path, C.GoString(&buf[0]))
	case outLen == 0 && got > 0:
		n.outLen = int(got)
	case int(got) != outLen:
		n.Close()
		return nil, fmt.Errorf("%w: %s gives %d values, want %d", ErrOutputSize, path, got, outLen)
	}
	return n, nil
}

// OutLen is the number of values the network gives.
func (n *Net) OutLen() int { return n.outLen }

// Run implements face.Network.
func (n *Net) Run(ctx context.Context, in []float32) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(in) != n.c*n.h*n.w {
		return nil, fmt.Errorf("opencv dnn: input of %d values, want %d", len(in), n.c*n.h*n.w)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.p == nil {
		return nil, face.ErrClosed
	}
	out := make([]float32, n.outLen)
	var buf [errLen]C.char
	got := C.ikd_net_run(n.p, (*C.float)(unsafe.Pointer(&in[0])), 1, C.int(n.c), C.int(n.h), C.int(n.w),
		(*C.float)(unsafe.Pointer(&out[0])), C.int(n.outLen), &buf[0], errLen)
	if got < 0 {
		return nil, fmt.Errorf("opencv dnn: forward: %s", C.GoString(&buf[0]))
	}
	if int(got) != n.outLen {
		return nil, fmt.Errorf("%w: the network gives %d values, want %d", ErrOutputSize, got, n.outLen)
	}
	return out, nil
}

// ErrOutputSize: the network is not the kind of model it was loaded as.
var ErrOutputSize = errors.New("opencv dnn: unexpected output size")

// Close frees the network; it waits for a running pass and is safe to call more than once.
func (n *Net) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.p != nil {
		C.ikd_net_free(n.p)
		n.p = nil
	}
	return nil
}
