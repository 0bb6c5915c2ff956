package face

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/cmplx"

	"github.com/ikd-field/ikd/kiosk/face/quality"
)

// Network runs one neural network on one input tensor; kiosk/face/opencvdnn implements it
// with OpenCV's DNN module (cgo). Everything around it (alignment, the input tensor, the
// template) is here, in pure Go.
type Network interface {
	// Run takes a 1×3×112×112 float32 tensor (NCHW) and returns the network's output. It
	// returns ctx's error without running when ctx is done and ErrClosed after Close. It
	// must be safe for concurrent use.
	Run(ctx context.Context, in []float32) ([]float32, error)
}

// ArcFace input geometry: a 112×112 crop with the five points at these places (the
// reference of the InsightFace family of models, which fr_feature.onnx and SFace share).
const ArcFaceSize = 112

// arcFaceRef is, in order, the eye on the image's left, the eye on the image's right, the
// nose tip, the mouth corner on the image's left and the one on the image's right.
var arcFaceRef = [5][2]float64{
	{38.2946, 51.6963}, {73.5318, 51.5014}, {56.0252, 71.7366}, {41.5493, 92.3655}, {70.7299, 92.2041},
}

// ErrLandmarks: the landmarks cannot place an ArcFace crop (a count that is neither dlib's 5
// nor its 68, or eyes on top of each other).
var ErrLandmarks = errors.New("landmarks cannot align an ArcFace crop")

// arcFacePoints reads the ArcFace points from dlib's landmarks. From 68 points: each eye's
// centre from its four lid points, the nose tip (30), each mouth corner as the mean of the
// outer and inner lip corner (48/60, 54/64), as the model's own JavaScript does. dlib's
// 5-point model has no mouth and the nose base rather than its tip, so only the eye centres
// (mean of each eye's two corners) are used: two points fix a similarity exactly.
func arcFacePoints(pts []quality.Point) (src, dst [][2]float64, err error) {
	p := func(i int) [2]float64 { return [2]float64{pts[i].X, pts[i].Y} }
	mean := func(idx ...int) [2]float64 {
		var m [2]float64
		for _, i := range idx {
			m[0] += pts[i].X / float64(len(idx))
			m[1] += pts[i].Y / float64(len(idx))
		}
		return m
	}
	switch len(pts) {
	case 68:
		src = [][2]float64{mean(37, 38, 40, 41), mean(43, 44, 46, 47), p(30), mean(48, 60), mean(54, 64)}
		dst = arcFaceRef[:]
	case 5:
		src = [][2]float64{mean(2, 3), mean(0, 1)}
		dst = arcFaceRef[:2]
	default:
		return nil, nil, fmt.Errorf("%w: %d points", ErrLandmarks, len(pts))
	}
	return src, dst, nil
}

// similarity fits dst ≈ a·src + b over complex numbers (rotation, uniform scale and shift,
// least squares: Umeyama's method without reflection in 2-D).
func similarity(src, dst [][2]float64) (a, b complex128, err error) {
	var ms, md complex128
	for i := range src {
		ms += complex(src[i][0], src[i][1])
		md += complex(dst[i][0], dst[i][1])
	}
	n := complex(float64(len(src)), 0)
	ms, md = ms/n, md/n
	var num complex128
	var den float64
	for i := range src {
		s := complex(src[i][0], src[i][1]) - ms
		d := complex(dst[i][0], dst[i][1]) - md
		num += d * complex(real(s), -imag(s))
		den += real(s)*real(s) + imag(s)*imag(s)
	}
	if !(den > 1e-6) || math.IsNaN(real(num)+imag(num)) {
		return 0, 0, fmt.Errorf("%w: points coincide", ErrLandmarks)
	}
	a = num / complex(den, 0)
	return a, md - a*ms, nil
}

// AlignArcFace cuts the 112×112 ArcFace crop of the face with dlib's landmarks shape (5 or
// 68 points in img's coordinates, as Observation.Shape holds them) from img, black outside
// img. A face larger than the crop is first reduced by averaging k×k blocks of pixels, k the
// whole part of the scale, and then sampled bilinear, as an area resize before a warp does:
// point samples of a large face would alias into a pattern that changes with the face's
// distance from the camera.
func AlignArcFace(img image.Image, shape []quality.Point) (*image.RGBA, error) {
	src, dst, err := arcFacePoints(shape)
	if err != nil {
		return nil, err
	}
	a, b, err := similarity(src, dst)
	if err != nil {
		return nil, err
	}
	inv := 1 / a
	g := reduceFootprint(img, func(x, y float64) complex128 { return (complex(x, y) - b) * inv },
		max(1, min(maxReduce, int(cmplx.Abs(inv)))))
	out := image.NewRGBA(image.Rect(0, 0, ArcFaceSize, ArcFaceSize))
	for y := 0; y < ArcFaceSize; y++ {
		for x := 0; x < ArcFaceSize; x++ {
			v := g.bilinear((complex(float64(x), float64(y)) - b) * inv)
			i := out.PixOffset(x, y)
			for c := range v {
				out.Pix[i+c] = uint8(math.Round(math.Max(0, math.Min(255, float64(v[c])))))
			}
			out.Pix[i+3] = 255
		}
	}
	return out, nil
}

// maxReduce bounds AlignArcFace's block size (a face up to about eight times the crop).
const maxReduce = 8

// reducedGrid is the part of an image a crop reads, in RGB, each cell the mean of a k×k block
// of pixels; cell (0, 0) starts at pixel (x0, y0). Cells outside the image are black.
type reducedGrid struct {
	w, h, k, x0, y0 int
	pix             [][3]float32
}

// reduceFootprint is the reduced grid of the pixels that toSrc maps the crop onto, with a
// cell's margin for the bilinear samples at its edge.
func reduceFootprint(img image.Image, toSrc func(x, y float64) complex128, k int) reducedGrid {
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, c := range [][2]float64{{-1, -1}, {ArcFaceSize, -1}, {-1, ArcFaceSize}, {ArcFaceSize, ArcFaceSize}} {
		s := toSrc(c[0], c[1])
		minX, maxX = math.Min(minX, real(s)), math.Max(maxX, real(s))
		minY, maxY = math.Min(minY, imag(s)), math.Max(maxY, imag(s))
	}
	g := reducedGrid{k: k, x0: int(math.Floor(minX)) - k, y0: int(math.Floor(minY)) - k}
	g.w = (int(math.Ceil(maxX))+k-g.x0)/k + 1
	g.h = (int(math.Ceil(maxY))+k-g.y0)/k + 1
	g.pix = make([][3]float32, g.w*g.h)
	r := img.Bounds()
	yc, _ := img.(*image.YCbCr)
	inv := 1 / float32(k*k)
	for cy := range g.h {
		for cx := range g.w {
			var sum [3]float32
			for y := g.y0 + cy*k; y < g.y0+cy*k+k; y++ {
				for x := g.x0 + cx*k; x < g.x0+cx*k+k; x++ {
					if !(image.Point{x, y}).In(r) {
						continue
					}
					var R, G, B uint8
					if yc != nil {
						c := yc.YCbCrAt(x, y)
						R, G, B = color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
					} else {
						r16, g16, b16, _ := img.At(x, y).RGBA()
						R, G, B = uint8(r16>>8), uint8(g16>>8), uint8(b16>>8)
					}
					sum[0], sum[1], sum[2] = sum[0]+float32(R), sum[1]+float32(G), sum[2]+float32(B)
				}
			}
			g.pix[cy*g.w+cx] = [3]float32{sum[0] * inv, sum[1] * inv, sum[2] * inv}
		}
	}
	return g
}

// bilinear samples the grid at source pixel coordinates s (a cell's value sits at its
// block's centre).
func (g reducedGrid) bilinear(s complex128) [3]float32 {
	half := float64(g.k-1) / 2
	u := (real(s) - float64(g.x0) - half) / float64(g.k)
	v := (imag(s) - float64(g.y0) - half) / float64(g.k)
	x0, y0 := int(math.Floor(u)), int(math.Floor(v))
	fx, fy := float32(u-float64(x0)), float32(v-float64(y0))
	at := func(x, y int) [3]float32 {
		if x < 0 || y < 0 || x >= g.w || y >= g.h {
			return [3]float32{}
		}
		return g.pix[y*g.w+x]
	}
	p00, p10, p01, p11 := at(x0, y0), at(x0+1, y0), at(x0, y0+1), at(x0+1, y0+1)
	var out [3]float32
	for c := range out {
		out[c] = (p00[c]*(1-fx)+p10[c]*fx)*(1-fy) + (p01[c]*(1-fx)+p11[c]*fx)*fy
	}
	return out
}

// ArcFaceTensor is the network input for crop: RGB planes (NCHW) scaled as (p−127)/128.
func ArcFaceTensor(crop *image.RGBA) []float32 {
	const plane = ArcFaceSize * ArcFaceSize
	t := make([]float32, 3*plane)
	for y := 0; y < ArcFaceSize; y++ {
		for x := 0; x < ArcFaceSize; x++ {
			i := crop.PixOffset(crop.Rect.Min.X+x, crop.Rect.Min.Y+y)
			for c := 0; c < 3; c++ {
				t[c*plane+y*ArcFaceSize+x] = (float32(crop.Pix[i+c]) - 127) / 128
			}
		}
	}
	return t
}

// Embedding is a modern engine's template: the network's output scaled to unit length.
type Embedding []float32

// Cosine is the cosine similarity of two unit embeddings (1 the same face, about 0 strangers);
// NaN when the lengths differ, so templates of different models never score.
func Cosine(a, b Embedding) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return math.NaN()
	}
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// Modern is the ArcFace-style engine: it aligns the face from the landmarks dlib found and
// runs an ONNX network on the crop. It needs no detector of its own.
type Modern struct {
	net   Network
	model ModernModel
}

// NewModern wraps a loaded network with what is known of its file.
func NewModern(net Network, model ModernModel) *Modern { return &Modern{net: net, model: model} }

// Model is the model the engine runs.
func (m *Modern) Model() ModernModel { return m.model }

// Embed computes the template of the face with landmarks shape in img.
func (m *Modern) Embed(ctx context.Context, img image.Image, shape []quality.Point) (Embedding, error) {
	crop, err := AlignArcFace(img, shape)
	if err != nil {
		return nil, err
	}
	out, err := m.net.Run(ctx, ArcFaceTensor(crop))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.model.Engine, err)
	}
	var n float64
	for _, v := range out {
		n += float64(v) * float64(v)
	}
	n = math.Sqrt(n)
	if !(n > 0) || math.IsInf(n, 0) {
		return nil, fmt.Errorf("%s: embedding of length %v", m.model.Engine, n)
	}
	e := make(Embedding, len(out))
	for i, v := range out {
		e[i] = float32(float64(v) / n)
	}
	return e, nil
}
