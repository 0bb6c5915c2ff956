package camera

import (
	"errors"
	"fmt"
	"strings"
)

// PixelFormat is a V4L2 pixel format code (a FourCC).
type PixelFormat uint32

func fourCC(a, b, c, d byte) PixelFormat {
	return PixelFormat(uint32(a) | uint32(b)<<8 | uint32(c)<<16 | uint32(d)<<24)
}

// The formats the webcam source can decode.
var (
	FormatMJPEG = fourCC('M', 'J', 'P', 'G')
	// FormatJPEG is what some older drivers call the same motion-JPEG stream.
	FormatJPEG = fourCC('J', 'P', 'E', 'G')
	FormatYUYV = fourCC('Y', 'U', 'Y', 'V')
)

// formatPreference lists decodable formats, best first. MJPEG wins because USB 2.0
// bandwidth limits uncompressed YUYV to a low frame rate at 720p and above.
var formatPreference = []PixelFormat{FormatMJPEG, FormatJPEG, FormatYUYV}

// String returns the FourCC, e.g. "MJPG".
func (f PixelFormat) String() string {
	b := []byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)}
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return strings.TrimRight(string(b), " ")
}

// ChooseFormat picks the best decodable format from what a device offers.
func ChooseFormat(offered []PixelFormat) (PixelFormat, error) {
	for _, want := range formatPreference {
		for _, f := range offered {
			if f == want {
				return f, nil
			}
		}
	}
	names := make([]string, len(offered))
	for i, f := range offered {
		names[i] = f.String()
	}
	return 0, fmt.Errorf("%w: device offers [%s], need MJPG or YUYV",
		ErrUnsupportedCamera, strings.Join(names, " "))
}

// Size is a frame size in pixels.
type Size struct {
	Width, Height int
}

func (s Size) String() string { return fmt.Sprintf("%dx%d", s.Width, s.Height) }

// SizeRange is one frame-size entry a device reports for a format: a single size when
// Min equals Max, otherwise every size from Min to Max in steps of Step.
type SizeRange struct {
	Min, Max Size
	Step     Size
}

func (r SizeRange) String() string {
	if r.Min == r.Max {
		return r.Min.String()
	}
	return fmt.Sprintf("%v..%v/step %v", r.Min, r.Max, r.Step)
}

// errNoSize is returned when a device lists no usable frame size.
var errNoSize = errors.New("no usable frame size")

// ClosestSize picks the supported size nearest to want: the smallest
// |Δwidth|+|Δheight|; on a tie the larger picture (more detail for the analysers),
// then the narrower one so the choice is deterministic.
func ClosestSize(ranges []SizeRange, want Size) (Size, error) {
	if want.Width <= 0 || want.Height <= 0 {
		return Size{}, fmt.Errorf("wanted frame size %v: width and height must be positive", want)
	}
	var best Size
	bestDist := -1
	for _, r := range ranges {
		c, ok := r.nearest(want)
		if !ok {
			continue
		}
		d := abs(c.Width-want.Width) + abs(c.Height-want.Height)
		if bestDist < 0 || d < bestDist || d == bestDist && better(c, best) {
			best, bestDist = c, d
		}
	}
	if bestDist < 0 {
		return Size{}, fmt.Errorf("%w: %w", ErrUnsupportedCamera, errNoSize)
	}
	return best, nil
}

// better breaks ties between two equally distant sizes.
func better(a, b Size) bool {
	if aa, ba := a.Width*a.Height, b.Width*b.Height; aa != ba {
		return aa > ba
	}
	return a.Width < b.Width
}

// nearest returns the size within r closest to want, or false if r is empty or invalid
// (blackjack/webcam reports V4L2 "continuous" ranges as all zeros).
func (r SizeRange) nearest(want Size) (Size, bool) {
	if r.Min.Width <= 0 || r.Min.Height <= 0 || r.Max.Width < r.Min.Width || r.Max.Height < r.Min.Height {
		return Size{}, false
	}
	return Size{
		Width:  snap(want.Width, r.Min.Width, r.Max.Width, r.Step.Width),
		Height: snap(want.Height, r.Min.Height, r.Max.Height, r.Step.Height),
	}, true
}

// snap clamps v to [lo, hi] and rounds it to the nearest lo+k*step not above hi.
func snap(v, lo, hi, step int) int {
	if v <= lo || lo == hi {
		return lo
	}
	if v > hi {
		v = hi
	}
	if step <= 1 {
		return v
	}
	k := (v - lo + step/2) / step
	s := lo + k*step
	for s > hi {
		s -= step
	}
	return s
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
