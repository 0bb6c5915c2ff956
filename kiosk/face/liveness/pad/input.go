package pad

import (
	"image"
	"image/color"
	"math"
)

// Input of fr_liveness.onnx as faceplugin-face-recognition-js@0.0.1 (lib/fr_liveness.js)
// prepares it: the face box scaled by 2.7 about its centre (less when the frame is too
// small), shifted inside the frame, cut out and resized to 128×128; the tensor is 1×3×128×128,
// RGB planes of raw 0..255 values (no mean, no scale). The output is three logits; the
// package reports softmax()[0] as its liveness score.
const (
	InputSize = 128
	CropScale = 2.7
)

// CropRect is the frame region the package feeds the model for face box b in a frame of
// bounds f, following alignLivenessImage.
func CropRect(f, b image.Rectangle) image.Rectangle {
	srcW, srcH := float64(f.Dx()), float64(f.Dy())
	x, y := float64(b.Min.X-f.Min.X), float64(b.Min.Y-f.Min.Y)
	bw, bh := float64(b.Dx()), float64(b.Dy())
	if bw <= 0 || bh <= 0 {
		return image.Rectangle{}
	}
	scale := math.Min((srcH-1)/bh, math.Min((srcW-1)/bw, CropScale))
	nw, nh := bw*scale, bh*scale
	cx, cy := x+bw/2, y+bh/2
	l, t, r, btm := cx-nw/2, cy-nh/2, cx+nw/2, cy+nh/2
	if l < 0 {
		r -= l
		l = 0
	}
	if t < 0 {
		btm -= t
		t = 0
	}
	if r > srcW-1 {
		l -= r - srcW + 1
		r = srcW - 1
	}
	if btm > srcH-1 {
		t -= btm - srcH + 1
		btm = srcH - 1
	}
	x0, y0 := max(int(l), 0), max(int(t), 0)
	w, h := min(int(r-l), int(srcW)-1), min(int(btm-t), int(srcH)-1)
	return image.Rect(x0, y0, x0+w, y0+h).Add(f.Min).Intersect(f)
}

// Tensor resizes region r of m to 128×128 (bilinear) and lays it out as the model takes it.
func Tensor(m image.Image, r image.Rectangle) []float32 {
	const n = InputSize
	out := make([]float32, 3*n*n)
	if r.Empty() {
		return out
	}
	sx, sy := float64(r.Dx())/n, float64(r.Dy())/n
	at := func(x, y int) (float64, float64, float64) {
		x = min(max(x, r.Min.X), r.Max.X-1)
		y = min(max(y, r.Min.Y), r.Max.Y-1)
		c := color.RGBAModel.Convert(m.At(x, y)).(color.RGBA)
		return float64(c.R), float64(c.G), float64(c.B)
	}
	for oy := range n {
		fy := (float64(oy)+0.5)*sy - 0.5 + float64(r.Min.Y)
		y0 := int(math.Floor(fy))
		wy := fy - float64(y0)
		for ox := range n {
			fx := (float64(ox)+0.5)*sx - 0.5 + float64(r.Min.X)
			x0 := int(math.Floor(fx))
			wx := fx - float64(x0)
			r00, g00, b00 := at(x0, y0)
			r01, g01, b01 := at(x0+1, y0)
			r10, g10, b10 := at(x0, y0+1)
			r11, g11, b11 := at(x0+1, y0+1)
			mix := func(a, b, c, d float64) float32 {
				return float32((a*(1-wx)+b*wx)*(1-wy) + (c*(1-wx)+d*wx)*wy)
			}
			i := oy*n + ox
			out[i] = mix(r00, r01, r10, r11)
			out[n*n+i] = mix(g00, g01, g10, g11)
			out[2*n*n+i] = mix(b00, b01, b10, b11)
		}
	}
	return out
}

// Softmax turns logits into probabilities.
func Softmax(logits []float32) []float64 {
	if len(logits) == 0 {
		return nil
	}
	hi := float64(logits[0])
	for _, v := range logits {
		hi = math.Max(hi, float64(v))
	}
	out := make([]float64, len(logits))
	sum := 0.0
	for i, v := range logits {
		out[i] = math.Exp(float64(v) - hi)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}
