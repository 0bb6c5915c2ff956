package quality

import (
	"image"
	"image/color"
	"math"
)

// Pixels are the photometric measures of a face crop.
type Pixels struct {
	// Sharpness is the variance of the Laplacian of the crop, resampled to a fixed size so
	// that it does not depend on how large the face is.
	Sharpness float64
	// Mean is the mean luminance (0–255).
	Mean float64
	// Contrast is the standard deviation of the luminance.
	Contrast float64
}

// cropSide is the side of the square the face crop is resampled to before measuring.
const cropSide = 96

// FaceCrop returns the square around the eyes and nose that the pixel measures look at:
// 2·IOD wide, centred between the eye centre and the nose. It may reach outside the frame.
func FaceCrop(l Landmarks, p Pose) image.Rectangle {
	c := mid(p.EyeCentre, l[4])
	half := p.IOD
	return image.Rect(int(c.X-half), int(c.Y-half), int(c.X+half+0.5), int(c.Y+half+0.5))
}

// MeasurePixels resamples the part r of img (clipped to the image) to a cropSide square of
// luminance and measures it. It reads the Y plane of YCbCr and Gray images directly.
func MeasurePixels(img image.Image, r image.Rectangle) Pixels {
	r = r.Intersect(img.Bounds())
	if r.Dx() < 2 || r.Dy() < 2 {
		return Pixels{}
	}
	lum := resampleLuma(img, r, cropSide)
	return measureLuma(lum, cropSide)
}

// resampleLuma averages r down (or samples it up) to n×n luminance values. Averaging
// removes the aliasing and pixel noise that would otherwise inflate the Laplacian of a large
// face crop.
func resampleLuma(img image.Image, r image.Rectangle, n int) []float64 {
	out := make([]float64, n*n)
	at := lumaAt(img)
	for y := range n {
		y0 := r.Min.Y + y*r.Dy()/n
		y1 := max(y0+1, r.Min.Y+(y+1)*r.Dy()/n)
		for x := range n {
			x0 := r.Min.X + x*r.Dx()/n
			x1 := max(x0+1, r.Min.X+(x+1)*r.Dx()/n)
			sum := 0
			for py := y0; py < y1; py++ {
				for px := x0; px < x1; px++ {
					sum += int(at(px, py))
				}
			}
			out[y*n+x] = float64(sum) / float64((y1-y0)*(x1-x0))
		}
	}
	return out
}

func lumaAt(img image.Image) func(x, y int) uint8 {
	switch m := img.(type) {
	case *image.YCbCr:
		return func(x, y int) uint8 { return m.Y[m.YOffset(x, y)] }
	case *image.Gray:
		return func(x, y int) uint8 { return m.Pix[m.PixOffset(x, y)] }
	}
	return func(x, y int) uint8 { return color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y }
}

func measureLuma(lum []float64, n int) Pixels {
	var sum, sq float64
	for _, v := range lum {
		sum += v
		sq += v * v
	}
	cnt := float64(len(lum))
	mean := sum / cnt
	variance := math.Max(0, sq/cnt-mean*mean)
	// 4-neighbour Laplacian on the interior.
	var ls, lsq float64
	m := 0
	for y := 1; y < n-1; y++ {
		for x := 1; x < n-1; x++ {
			i := y*n + x
			v := lum[i-1] + lum[i+1] + lum[i-n] + lum[i+n] - 4*lum[i]
			ls += v
			lsq += v * v
			m++
		}
	}
	lm := ls / float64(m)
	return Pixels{
		Sharpness: math.Max(0, lsq/float64(m)-lm*lm),
		Mean:      mean,
		Contrast:  math.Sqrt(variance),
	}
}
