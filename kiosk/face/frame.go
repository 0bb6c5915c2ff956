package face

import (
	"image"
	"image/color"
	"math"

	"github.com/ikd-field/ikd/kiosk"
)

// Descriptor is a 128-d dlib face descriptor (the core's type).
type Descriptor = kiosk.Descriptor

// ToYCbCr returns m as a 4:2:0 YCbCr frame at the same bounds, the layout a webcam delivers
// (m itself when it already is YCbCr).
func ToYCbCr(m image.Image) *image.YCbCr { return scaledYCbCr(m, m.Bounds(), 1) }

// scaledYCbCr returns the part r of src scaled by 1/factor (factor ≥ 1) as a 4:2:0 YCbCr
// image, averaging each factor×factor block (a box filter: cheap, and enough against
// aliasing for HOG). With factor 1 and a YCbCr source it returns a sub-image, no copy.
func scaledYCbCr(src image.Image, r image.Rectangle, factor int) *image.YCbCr {
	r = r.Intersect(src.Bounds())
	if factor <= 1 {
		if y, ok := src.(*image.YCbCr); ok {
			return y.SubImage(r).(*image.YCbCr)
		}
		factor = 1
	}
	w, h := r.Dx()/factor, r.Dy()/factor
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	switch s := src.(type) {
	case *image.YCbCr:
		scaleYCbCrPlanes(dst, s, r, factor)
	case *image.Gray:
		for y := range h {
			for x := range w {
				dst.Y[y*dst.YStride+x] = boxMean(s.Pix, s.Stride, (r.Min.X-s.Rect.Min.X)+x*factor, (r.Min.Y-s.Rect.Min.Y)+y*factor, factor, factor)
			}
		}
		fillNeutralChroma(dst)
	default:
		scaleGeneric(dst, src, r, factor)
	}
	return dst
}

func scaleYCbCrPlanes(dst, s *image.YCbCr, r image.Rectangle, factor int) {
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	for y := range h {
		if factor == 2 {
			// The common case (a 1280-wide frame to 640), a third of the time of boxMean.
			top := s.Y[s.YOffset(r.Min.X, r.Min.Y+2*y):]
			bottom := s.Y[s.YOffset(r.Min.X, r.Min.Y+2*y+1):]
			row := dst.Y[y*dst.YStride : y*dst.YStride+w]
			for x := range row {
				row[x] = uint8((int(top[2*x]) + int(top[2*x+1]) + int(bottom[2*x]) + int(bottom[2*x+1]) + 2) / 4)
			}
			continue
		}
		for x := range w {
			sx, sy := r.Min.X+x*factor, r.Min.Y+y*factor
			dst.Y[y*dst.YStride+x] = boxMean(s.Y, s.YStride, sx-s.Rect.Min.X, sy-s.Rect.Min.Y, factor, factor)
		}
	}
	// Chroma: one destination sample per 2×2 destination pixels; sample the source chroma
	// at the block centre (chroma is smooth, averaging buys nothing visible).
	cw, ch := (w+1)/2, (h+1)/2
	for y := range ch {
		for x := range cw {
			sx := r.Min.X + (2*x+1)*factor
			sy := r.Min.Y + (2*y+1)*factor
			if sx >= r.Max.X {
				sx = r.Max.X - 1
			}
			if sy >= r.Max.Y {
				sy = r.Max.Y - 1
			}
			ci := s.COffset(sx, sy)
			dst.Cb[y*dst.CStride+x] = s.Cb[ci]
			dst.Cr[y*dst.CStride+x] = s.Cr[ci]
		}
	}
}

func boxMean(pix []uint8, stride, x0, y0, fw, fh int) uint8 {
	if fw == 1 && fh == 1 {
		return pix[y0*stride+x0]
	}
	sum := 0
	for y := y0; y < y0+fh; y++ {
		row := pix[y*stride+x0 : y*stride+x0+fw]
		for _, v := range row {
			sum += int(v)
		}
	}
	return uint8((sum + fw*fh/2) / (fw * fh))
}

func fillNeutralChroma(dst *image.YCbCr) {
	for i := range dst.Cb {
		dst.Cb[i] = 128
		dst.Cr[i] = 128
	}
}

// scaleGeneric handles RGBA, NRGBA and anything else through the colour model: slower,
// used for test images and still photos, not for webcam frames.
func scaleGeneric(dst *image.YCbCr, src image.Image, r image.Rectangle, factor int) {
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	n := uint32(factor * factor)
	for y := range h {
		for x := range w {
			var rs, gs, bs uint32
			for dy := range factor {
				for dx := range factor {
					cr, cg, cb, _ := src.At(r.Min.X+x*factor+dx, r.Min.Y+y*factor+dy).RGBA()
					rs += cr >> 8
					gs += cg >> 8
					bs += cb >> 8
				}
			}
			yy, cb, cr := color.RGBToYCbCr(uint8(rs/n), uint8(gs/n), uint8(bs/n))
			dst.Y[y*dst.YStride+x] = yy
			if x%2 == 0 && y%2 == 0 {
				ci := (y/2)*dst.CStride + x/2
				dst.Cb[ci], dst.Cr[ci] = cb, cr
			}
		}
	}
}

// resizedYCbCr scales src by scale (at most 1): each destination luma pixel averages the
// source area it covers, and chroma is sampled at the centre of each 2×2 block. Scale 1
// returns src itself.
func resizedYCbCr(src *image.YCbCr, scale float64) *image.YCbCr {
	if scale >= 1 {
		return src
	}
	sr := src.Rect
	w := max(1, int(math.Round(float64(sr.Dx())*scale)))
	h := max(1, int(math.Round(float64(sr.Dy())*scale)))
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	xs, ys := areaSpans(sr.Dx(), w), areaSpans(sr.Dy(), h)
	rows := make([]float32, sr.Dy()*w) // horizontally filtered luma
	for y := range sr.Dy() {
		row := src.Y[src.YOffset(sr.Min.X, sr.Min.Y+y):]
		for x, sp := range xs {
			var sum float32
			for k, wt := range sp.weights {
				sum += wt * float32(row[sp.start+k])
			}
			rows[y*w+x] = sum
		}
	}
	for y, sp := range ys {
		for x := range w {
			var sum float32
			for k, wt := range sp.weights {
				sum += wt * rows[(sp.start+k)*w+x]
			}
			dst.Y[y*dst.YStride+x] = uint8(min(255, sum+0.5))
		}
	}
	fx, fy := float64(sr.Dx())/float64(w), float64(sr.Dy())/float64(h)
	for cy := range (h + 1) / 2 {
		sy := sr.Min.Y + min(sr.Dy()-1, int(float64(2*cy+1)*fy))
		for cx := range (w + 1) / 2 {
			sx := sr.Min.X + min(sr.Dx()-1, int(float64(2*cx+1)*fx))
			ci := src.COffset(sx, sy)
			dst.Cb[cy*dst.CStride+cx], dst.Cr[cy*dst.CStride+cx] = src.Cb[ci], src.Cr[ci]
		}
	}
	return dst
}

// areaSpan is the source pixels one destination pixel covers, with each one's share.
type areaSpan struct {
	start   int
	weights []float32
}

// areaSpans maps n source pixels onto m ≤ n destination pixels.
func areaSpans(n, m int) []areaSpan {
	r := float64(n) / float64(m)
	spans := make([]areaSpan, m)
	for i := range spans {
		lo, hi := float64(i)*r, float64(i+1)*r
		start, end := int(lo), min(n, int(math.Ceil(hi)))
		wts := make([]float32, end-start)
		for k := range wts {
			p := float64(start + k)
			wts[k] = float32((min(hi, p+1) - max(lo, p)) / r)
		}
		spans[i] = areaSpan{start: start, weights: wts}
	}
	return spans
}
