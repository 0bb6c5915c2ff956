package qr

import (
	"image"
	"image/color"

	"github.com/makiuchi-d/gozxing"
)

// plane is an 8-bit luminance picture with rows packed (stride == w).
type plane struct {
	pix  []byte
	w, h int
}

// lumaPlane returns the luminance of img. Grey and Y′CbCr pictures (what webcams deliver)
// are used in place when their rows are packed; anything else is converted once.
func lumaPlane(img image.Image) plane {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch m := img.(type) {
	case *image.Gray:
		return packed(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h)
	case *image.YCbCr:
		return packed(m.Y[m.YOffset(b.Min.X, b.Min.Y):], m.YStride, w, h)
	}
	p := plane{pix: make([]byte, w*h), w: w, h: h}
	for y := range h {
		for x := range w {
			p.pix[y*w+x] = color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y
		}
	}
	return p
}

// packed views rows of stride bytes as a packed w×h plane, copying only when rows have gaps.
func packed(pix []byte, stride, w, h int) plane {
	if stride == w {
		return plane{pix: pix[:w*h], w: w, h: h}
	}
	p := plane{pix: make([]byte, w*h), w: w, h: h}
	for y := range h {
		copy(p.pix[y*w:(y+1)*w], pix[y*stride:y*stride+w])
	}
	return p
}

// half averages 2×2 blocks: a quarter of the pixels, and half the noise.
func (p plane) half() plane {
	w, h := p.w/2, p.h/2
	out := plane{pix: make([]byte, w*h), w: w, h: h}
	for y := range h {
		r0 := p.pix[2*y*p.w:]
		r1 := p.pix[(2*y+1)*p.w:]
		o := out.pix[y*w : (y+1)*w]
		for x := range o {
			o[x] = byte((int(r0[2*x]) + int(r0[2*x+1]) + int(r1[2*x]) + int(r1[2*x+1]) + 2) >> 2)
		}
	}
	return out
}

// smooth applies a 3×3 binomial filter ([1 2 1]ᵀ[1 2 1]/16): it cuts sensor noise to about
// 40% while blurring edges less than a box filter, which keeps 2–3 px modules apart.
func (p plane) smooth() plane {
	w, h := p.w, p.h
	tmp := make([]uint16, w*h)
	for y := range h {
		r := p.pix[y*w : (y+1)*w]
		t := tmp[y*w : (y+1)*w]
		t[0] = 3*uint16(r[0]) + uint16(r[min(1, w-1)])
		for x := 1; x < w-1; x++ {
			t[x] = uint16(r[x-1]) + 2*uint16(r[x]) + uint16(r[x+1])
		}
		if w > 1 {
			t[w-1] = uint16(r[w-2]) + 3*uint16(r[w-1])
		}
	}
	out := plane{pix: make([]byte, w*h), w: w, h: h}
	for y := range h {
		up := tmp[max(y-1, 0)*w:]
		mid := tmp[y*w:]
		down := tmp[min(y+1, h-1)*w:]
		o := out.pix[y*w : (y+1)*w]
		for x := range o {
			o[x] = byte((uint32(up[x]) + 2*uint32(mid[x]) + uint32(down[x]) + 8) >> 4)
		}
	}
	return out
}

// luminance adapts a plane to gozxing without the copy and colour conversion that
// gozxing.NewLuminanceSourceFromImage makes.
type luminance struct {
	gozxing.LuminanceSourceBase
	p plane
}

func newLuminance(p plane) *luminance {
	return &luminance{LuminanceSourceBase: gozxing.LuminanceSourceBase{Width: p.w, Height: p.h}, p: p}
}

// GetRow copies row y into row (callers such as the inverting source modify it in place).
func (l *luminance) GetRow(y int, row []byte) ([]byte, error) {
	if y < 0 || y >= l.p.h {
		return nil, gozxing.NewFormatException("row %d outside 0..%d", y, l.p.h-1)
	}
	if len(row) < l.p.w {
		row = make([]byte, l.p.w)
	}
	copy(row, l.p.pix[y*l.p.w:(y+1)*l.p.w])
	return row, nil
}

// GetMatrix returns the plane itself; gozxing only reads it.
func (l *luminance) GetMatrix() []byte { return l.p.pix }

func (l *luminance) Invert() gozxing.LuminanceSource { return gozxing.NewInvertedLuminanceSource(l) }

func (l *luminance) String() string { return gozxing.LuminanceSourceString(l) }

// double upsamples 2× bilinearly, so finder runs and module edges of small codes fall on
// more pixels and gozxing's integer run lengths lose less precision.
func (p plane) double() plane {
	w, h := 2*p.w, 2*p.h
	out := plane{pix: make([]byte, w*h), w: w, h: h}
	for y := range h {
		sy := max(float32(y)/2-0.25, 0)
		y0 := int(sy)
		y1 := min(y0+1, p.h-1)
		fy := sy - float32(y0)
		r0, r1 := p.pix[y0*p.w:], p.pix[y1*p.w:]
		o := out.pix[y*w : (y+1)*w]
		for x := range o {
			sx := max(float32(x)/2-0.25, 0)
			x0 := int(sx)
			x1 := min(x0+1, p.w-1)
			fx := sx - float32(x0)
			top := float32(r0[x0]) + fx*(float32(r0[x1])-float32(r0[x0]))
			bot := float32(r1[x0]) + fx*(float32(r1[x1])-float32(r1[x0]))
			o[x] = byte(top + fy*(bot-top) + 0.5)
		}
	}
	return out
}

// crop copies the part of p inside r (which must lie within p).
func (p plane) crop(r image.Rectangle) plane {
	out := plane{pix: make([]byte, r.Dx()*r.Dy()), w: r.Dx(), h: r.Dy()}
	for y := range out.h {
		copy(out.pix[y*out.w:(y+1)*out.w], p.pix[(r.Min.Y+y)*p.w+r.Min.X:])
	}
	return out
}

// stretch amplifies local contrast fourfold around the 17×17 neighbourhood mean. gozxing's
// hybrid binarizer treats any 8×8 block spanning fewer than 24 grey levels as blank, which
// erases a code on a dim screen behind a reflection (15% contrast is about 30 levels before
// blur).
func (p plane) stretch() plane {
	const r = 8
	w, h := p.w, p.h
	sum := integral(p)
	out := plane{pix: make([]byte, w*h), w: w, h: h}
	const full = (2*r + 1) * (2*r + 1)
	const recip = (1 << 24) / full // interior windows: multiply instead of divide
	for y := range h {
		y0, y1 := max(y-r, 0), min(y+r+1, h)
		top, bottom := sum[y0*(w+1):], sum[y1*(w+1):]
		in := p.pix[y*w : (y+1)*w]
		o := out.pix[y*w : (y+1)*w]
		for x := range o {
			x0, x1 := max(x-r, 0), min(x+r+1, w)
			s := bottom[x1] - top[x1] - bottom[x0] + top[x0]
			var mean int
			if n := (y1 - y0) * (x1 - x0); n == full {
				mean = int((uint64(s) * recip) >> 24)
			} else {
				mean = int(s) / n
			}
			v := 128 + 4*(int(in[x])-mean)
			o[x] = byte(min(max(v, 0), 255))
		}
	}
	return out
}

// at interpolates the plane bilinearly at (x, y), pixel centres on whole coordinates; ok is
// false outside the plane.
func (p plane) at(x, y float64) (v float64, ok bool) {
	// Written so that NaN (a degenerate module map) is outside too.
	if !(x >= -0.5 && y >= -0.5 && x <= float64(p.w)-0.5 && y <= float64(p.h)-0.5) {
		return 0, false
	}
	x, y = min(max(x, 0), float64(p.w-1)), min(max(y, 0), float64(p.h-1))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, p.w-1), min(y0+1, p.h-1)
	fx, fy := x-float64(x0), y-float64(y0)
	r0, r1 := p.pix[y0*p.w:], p.pix[y1*p.w:]
	top := float64(r0[x0]) + fx*(float64(r0[x1])-float64(r0[x0]))
	bot := float64(r1[x0]) + fx*(float64(r1[x1])-float64(r1[x0]))
	return top + fy*(bot-top), true
}

// sharpen is an unsharp mask: each pixel moves away from its 7×7 neighbourhood mean by twice
// the difference (p + 2(p − mean)). A lens blur of about half a module merges the finder's
// rings into grey; this brings them back to 1:1:3:1:1 runs the finder accepts.
func (p plane) sharpen() plane {
	const r = 3
	const full = (2*r + 1) * (2*r + 1)
	const recip = (1<<24 + full - 1) / full // interior windows: multiply instead of divide
	w, h := p.w, p.h
	sum := integral(p)
	out := plane{pix: make([]byte, w*h), w: w, h: h}
	for y := range h {
		y0, y1 := max(y-r, 0), min(y+r+1, h)
		top, bottom := sum[y0*(w+1):], sum[y1*(w+1):]
		in := p.pix[y*w : (y+1)*w]
		o := out.pix[y*w : (y+1)*w]
		for x := range o {
			x0, x1 := max(x-r, 0), min(x+r+1, w)
			s := bottom[x1] - top[x1] - bottom[x0] + top[x0]
			var mean int
			if n := (y1 - y0) * (x1 - x0); n == full {
				mean = int((uint64(s) * recip) >> 24)
			} else {
				mean = int(s) / n
			}
			v := 3*int(in[x]) - 2*mean
			o[x] = byte(min(max(v, 0), 255))
		}
	}
	return out
}

// integral returns the summed-area table of p with a row and column of zeros in front.
func integral(p plane) []uint32 {
	w, h := p.w, p.h
	sum := make([]uint32, (w+1)*(h+1))
	for y := range h {
		var row uint32
		for x := range w {
			row += uint32(p.pix[y*w+x])
			sum[(y+1)*(w+1)+x+1] = sum[y*(w+1)+x+1] + row
		}
	}
	return sum
}
