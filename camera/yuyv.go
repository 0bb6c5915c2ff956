package camera

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
)

// ErrBadYUYV is returned for a YUYV buffer that does not match its frame size.
var ErrBadYUYV = errors.New("bad YUYV frame")

// maxSide bounds frame sides so width*height*2 cannot overflow and a corrupt size cannot
// make us allocate gigabytes.
const maxSide = 1 << 14

func checkYUYV(n, width, height int) error {
	switch {
	case width <= 0 || height <= 0 || width > maxSide || height > maxSide:
		return fmt.Errorf("%w: frame size %dx%d out of range", ErrBadYUYV, width, height)
	case width%2 != 0:
		return fmt.Errorf("%w: width %d is odd (YUYV packs pixels in pairs)", ErrBadYUYV, width)
	case n != width*height*2:
		return fmt.Errorf("%w: %d bytes for %dx%d, want %d", ErrBadYUYV, n, width, height, width*height*2)
	}
	return nil
}

// YUYVToYCbCr converts a packed YUYV (Y0 U Y1 V) frame to a planar *image.YCbCr with
// 4:2:2 subsampling: no colour conversion, only de-interleaving, and the Y plane is the
// grey picture the analysers want.
func YUYVToYCbCr(src []byte, width, height int) (*image.YCbCr, error) {
	if err := checkYUYV(len(src), width, height); err != nil {
		return nil, err
	}
	img := image.NewYCbCr(image.Rect(0, 0, width, height), image.YCbCrSubsampleRatio422)
	// With an even width the planes have no row padding, so one linear pass covers them.
	splitYUYV(img.Y, img.Cb, img.Cr, src)
	return img, nil
}

// YUYVToGray extracts only the luminance of a YUYV frame: the fast path for sources that
// feed analysers only.
func YUYVToGray(src []byte, width, height int) (*image.Gray, error) {
	if err := checkYUYV(len(src), width, height); err != nil {
		return nil, err
	}
	img := image.NewGray(image.Rect(0, 0, width, height))
	lumaYUYV(img.Pix, src)
	return img, nil
}

const evenBytes = 0x00ff00ff00ff00ff

// packEven gathers the four even-indexed bytes of v into the low 32 bits.
func packEven(v uint64) uint64 {
	v &= evenBytes
	v = (v | v>>8) & 0x0000ffff0000ffff
	return (v | v>>16) & 0x00000000ffffffff
}

// splitYUYV de-interleaves src (len 4n) into y (len 2n), cb and cr (len n each),
// eight pixels (16 bytes) per step. The loops advance slices rather than indexes so the
// compiler can drop most bounds checks.
func splitYUYV(y, cb, cr, src []byte) {
	for len(src) >= 16 && len(y) >= 8 && len(cb) >= 4 && len(cr) >= 4 {
		a := binary.LittleEndian.Uint64(src)
		b := binary.LittleEndian.Uint64(src[8:])
		binary.LittleEndian.PutUint64(y, packEven(a)|packEven(b)<<32)
		// Odd bytes are U0 V0 U1 V1 ...; packed, then split again into U and V.
		c := packEven(a>>8) | packEven(b>>8)<<32
		binary.LittleEndian.PutUint32(cb, uint32(packEven(c)))
		binary.LittleEndian.PutUint32(cr, uint32(packEven(c>>8)))
		src, y, cb, cr = src[16:], y[8:], cb[4:], cr[4:]
	}
	for len(src) >= 4 && len(y) >= 2 && len(cb) >= 1 && len(cr) >= 1 {
		y[0], cb[0], y[1], cr[0] = src[0], src[1], src[2], src[3]
		src, y, cb, cr = src[4:], y[2:], cb[1:], cr[1:]
	}
}

// lumaYUYV copies the Y bytes of src (len 2n) into y (len n).
func lumaYUYV(y, src []byte) {
	for len(src) >= 16 && len(y) >= 8 {
		a := binary.LittleEndian.Uint64(src)
		b := binary.LittleEndian.Uint64(src[8:])
		binary.LittleEndian.PutUint64(y, packEven(a)|packEven(b)<<32)
		src, y = src[16:], y[8:]
	}
	for len(src) >= 2 && len(y) >= 1 {
		y[0] = src[0]
		src, y = src[2:], y[1:]
	}
}
