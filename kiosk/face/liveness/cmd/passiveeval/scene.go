package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// The frames are built the way camera/synthetic_scene.go builds the QR phone-screen frames
// (a busy counter, a phone projected by rotation, tilt and a pinhole camera, the screen's
// subpixel grid aliased into moiré, a reflection, blur, sensor noise), here in colour and with
// a photo on the screen or on paper instead of a code. Then the frame goes through JPEG, as a
// webcam's MJPEG stream does.

const frameW, frameH = 640, 480

// rgbf is a float RGB plane.
type rgbf struct {
	w, h int
	p    []float64 // 3 per pixel
}

func newRGBF(w, h int) *rgbf { return &rgbf{w: w, h: h, p: make([]float64, 3*w*h)} }

func fromImage(m image.Image) *rgbf {
	b := m.Bounds()
	f := newRGBF(b.Dx(), b.Dy())
	for y := range f.h {
		for x := range f.w {
			c := color.RGBAModel.Convert(m.At(b.Min.X+x, b.Min.Y+y)).(color.RGBA)
			i := 3 * (y*f.w + x)
			f.p[i], f.p[i+1], f.p[i+2] = float64(c.R), float64(c.G), float64(c.B)
		}
	}
	return f
}

// bilinear samples f at (x, y) in pixel-centre coordinates, clamped at the edges.
func (f *rgbf) bilinear(x, y float64) [3]float64 {
	x, y = x-0.5, y-0.5
	x0, y0 := int(math.Floor(x)), int(math.Floor(y))
	wx, wy := x-float64(x0), y-float64(y0)
	px := func(xx, yy int) []float64 {
		xx = min(max(xx, 0), f.w-1)
		yy = min(max(yy, 0), f.h-1)
		i := 3 * (yy*f.w + xx)
		return f.p[i : i+3]
	}
	a, b, c, d := px(x0, y0), px(x0+1, y0), px(x0, y0+1), px(x0+1, y0+1)
	var out [3]float64
	for k := range 3 {
		out[k] = (a[k]*(1-wx)+b[k]*wx)*(1-wy) + (c[k]*(1-wx)+d[k]*wx)*wy
	}
	return out
}

// background paints a lit counter with papers and boxes (renderBackground in colour).
func background(rng *rand.Rand) *rgbf {
	f := newRGBF(frameW, frameH)
	var g0, g1 [3]float64
	for k := range 3 {
		g0[k], g1[k] = 60+rng.Float64()*60, 100+rng.Float64()*80
	}
	for y := range frameH {
		for x := range frameW {
			t := (float64(x)/frameW + float64(y)/frameH) / 2
			i := 3 * (y*frameW + x)
			for k := range 3 {
				f.p[i+k] = g0[k] + (g1[k]-g0[k])*t
			}
		}
	}
	for range 30 {
		rw, rh := 20+rng.IntN(frameW/4), 20+rng.IntN(frameH/4)
		x0, y0 := rng.IntN(frameW), rng.IntN(frameH)
		fill := [3]float64{30 + rng.Float64()*200, 30 + rng.Float64()*200, 30 + rng.Float64()*200}
		for y := y0; y < min(y0+rh, frameH); y++ {
			for x := x0; x < min(x0+rw, frameW); x++ {
				i := 3 * (y*frameW + x)
				copy(f.p[i:i+3], fill[:])
			}
		}
	}
	return f
}

// plane is a flat object (phone or paper) seen by the webcam: plane units are frame pixels at
// its centre; the same projection as camera/synthetic_scene.go's newPhone.
type plane struct {
	inv     [9]float64
	outer   [4]float64 // left, top, right, bottom of the object
	surface func(u, t float64) ([3]float64, bool)
}

func newPlane(outer [4]float64, rotDeg, tiltDeg, cx, cy float64, surface func(u, t float64) ([3]float64, bool)) *plane {
	rot, tilt := rotDeg*math.Pi/180, tiltDeg*math.Pi/180
	d := 1.2 * frameW
	sr, cr, st, ct := math.Sin(rot), math.Cos(rot), math.Sin(tilt), math.Cos(tilt)
	h := [9]float64{
		cx*st*sr + d*cr, cx*st*cr - d*sr, cx * d,
		cy*st*sr + d*ct*sr, cy*st*cr + d*ct*cr, cy * d,
		st * sr, st * cr, d,
	}
	return &plane{inv: invert3(h), outer: outer, surface: surface}
}

// draw composites the plane over f with 2×2 samples per pixel.
func (p *plane) draw(f *rgbf) {
	for y := range f.h {
		for x := range f.w {
			var sum [3]float64
			hits := 0
			i := 3 * (y*f.w + x)
			for sy := range 2 {
				for sx := range 2 {
					fx, fy := float64(x)+0.25+0.5*float64(sx), float64(y)+0.25+0.5*float64(sy)
					q := &p.inv
					wd := q[6]*fx + q[7]*fy + q[8]
					u := (q[0]*fx + q[1]*fy + q[2]) / wd
					t := (q[3]*fx + q[4]*fy + q[5]) / wd
					v, in := [3]float64{}, false
					if u >= p.outer[0] && u < p.outer[2] && t >= p.outer[1] && t < p.outer[3] {
						v, in = p.surface(u, t)
					}
					if !in {
						copy(v[:], f.p[i:i+3])
					} else {
						hits++
					}
					for k := range 3 {
						sum[k] += v[k]
					}
				}
			}
			if hits > 0 {
				for k := range 3 {
					f.p[i+k] = sum[k] / 4
				}
			}
		}
	}
}

// content maps a photo region (around the face) onto a plane rectangle, fitted by width.
type content struct {
	src    *rgbf
	region image.Rectangle
	rect   [4]float64 // where it lands on the plane
	scale  float64    // source pixels per plane unit
}

func newContent(src *rgbf, region image.Rectangle, width float64, centreT float64) content {
	s := float64(region.Dx()) / width
	h := float64(region.Dy()) / s
	return content{src: src, region: region, scale: s,
		rect: [4]float64{-width / 2, centreT - h/2, width / 2, centreT + h/2}}
}

func (c content) at(u, t float64) ([3]float64, bool) {
	if u < c.rect[0] || u >= c.rect[2] || t < c.rect[1] || t >= c.rect[3] {
		return [3]float64{}, false
	}
	x := float64(c.region.Min.X) + (u-c.rect[0])*c.scale
	y := float64(c.region.Min.Y) + (t-c.rect[1])*c.scale
	return c.src.bilinear(x, y), true
}

// photoRegion is the part of a photo a phone or print shows: the face box widened to a
// head-and-shoulders portrait (3:4), kept inside the photo.
func photoRegion(bounds, face image.Rectangle) image.Rectangle {
	w := int(2.2 * float64(face.Dx()))
	h := w * 4 / 3
	cx, cy := (face.Min.X+face.Max.X)/2, (face.Min.Y+face.Max.Y)/2+face.Dy()/5
	r := image.Rect(cx-w/2, cy-h/2, cx-w/2+w, cy-h/2+h)
	return r.Intersect(bounds)
}

// phoneAttack shows the photo full-width on a phone screen held up to the webcam: a bezel, the
// screen's black level and gamma, its RGB subpixel grid (moiré), a reflection.
func phoneAttack(src *rgbf, face image.Rectangle, rng *rand.Rand) *rgbf {
	f := background(rng)
	region := photoRegion(image.Rect(0, 0, src.w, src.h), face)
	sw := 230 + rng.Float64()*80 // screen width in frame pixels at the phone's centre
	sh := sw * 2.1
	screen := [4]float64{-sw / 2, -sh / 2, sw / 2, sh / 2}
	bez := 0.05 * sw
	body := [4]float64{screen[0] - bez, screen[1] - 2*bez, screen[2] + bez, screen[3] + 2*bez}
	c := newContent(src, region, sw, -sh*0.08)
	gamma := 0.8 + rng.Float64()*0.25
	black := 12 + rng.Float64()*14 // an LCD's black glows
	moire := 0.25 + rng.Float64()*0.45
	pitch := 0.35 + rng.Float64()*0.3
	glare := 0.15 + rng.Float64()*0.35
	gx, gy, gr2 := (rng.Float64()-0.5)*sw*0.8, (rng.Float64()-0.5)*sh*0.6, math.Pow(0.3*sw, 2)
	tint := [3]float64{0.95 + rng.Float64()*0.05, 1, 1.02 + rng.Float64()*0.08} // cool white point
	surface := func(u, t float64) ([3]float64, bool) {
		if u < screen[0] || u >= screen[2] || t < screen[1] || t >= screen[3] {
			return [3]float64{28, 28, 30}, true // bezel
		}
		v, in := c.at(u, t)
		fu := u/pitch - math.Floor(u/pitch)
		ft := t/pitch - math.Floor(t/pitch)
		row := 1.0
		if ft > 0.8 {
			row = 0.3
		}
		var out [3]float64
		for k := range 3 {
			lin := 0.0
			if in {
				lin = 255 * math.Pow(v[k]/255, gamma)
			}
			lin = black + lin*(1-black/255)
			sub := 0.0
			if int(fu*3) == k {
				sub = 3
			}
			out[k] = lin * tint[k] * ((1 - moire) + moire*sub*row/0.86)
			dx, dy := u-gx, t-gy
			out[k] += glare * 200 * math.Exp(-(dx*dx+dy*dy)/(2*gr2))
		}
		return out, true
	}
	cx := frameW/2 + (rng.Float64()-0.5)*80
	cy := frameH/2 + (rng.Float64()-0.5)*40 + sh*0.15
	newPlane(body, (rng.Float64()-0.5)*16, rng.Float64()*20, cx, cy, surface).draw(f)
	return f
}

// printAttack shows the photo as a print held up to the webcam: white paper border, reduced
// dynamic range, a warm colour cast, paper grain and uneven light.
func printAttack(src *rgbf, face image.Rectangle, rng *rand.Rand) *rgbf {
	f := background(rng)
	region := photoRegion(image.Rect(0, 0, src.w, src.h), face)
	pw := 240 + rng.Float64()*80
	c := newContent(src, region, pw, 0)
	border := 0.06 * pw
	paper := [4]float64{c.rect[0] - border, c.rect[1] - border, c.rect[2] + border, c.rect[3] + border}
	lo, hi := 25+rng.Float64()*20, 200+rng.Float64()*30 // ink black and paper white
	cast := [3]float64{1.04 + rng.Float64()*0.04, 1, 0.82 + rng.Float64()*0.08}
	grain := 5 + rng.Float64()*4
	lx, ly := rng.Float64()-0.5, rng.Float64()-0.5 // light falls off across the sheet
	noise := newValueNoise(rng)
	surface := func(u, t float64) ([3]float64, bool) {
		v, in := c.at(u, t)
		light := 1 + 0.25*(lx*u+ly*t)/pw
		tex := grain*noise.at(u*0.9, t*0.9) + 0.5*grain*noise.at(u*0.15, t*0.15)
		var out [3]float64
		for k := range 3 {
			x := 240.0 // paper border
			if in {
				x = lo + (hi-lo)*v[k]/255
			}
			out[k] = (x*cast[k] + tex) * light
		}
		return out, true
	}
	cx := frameW/2 + (rng.Float64()-0.5)*80
	cy := frameH/2 + (rng.Float64()-0.5)*40 + 40
	newPlane(paper, (rng.Float64()-0.5)*16, rng.Float64()*25, cx, cy, surface).draw(f)
	return f
}

// valueNoise is smooth random texture in [-1, 1] on an integer lattice.
type valueNoise struct{ v [256]float64 }

func newValueNoise(rng *rand.Rand) *valueNoise {
	n := &valueNoise{}
	for i := range n.v {
		n.v[i] = 2*rng.Float64() - 1
	}
	return n
}

func (n *valueNoise) lattice(x, y int) float64 { return n.v[uint8(x*73+y*151+(x*y)%17)] }

func (n *valueNoise) at(x, y float64) float64 {
	x0, y0 := math.Floor(x), math.Floor(y)
	wx, wy := x-x0, y-y0
	ix, iy := int(x0), int(y0)
	a, b := n.lattice(ix, iy), n.lattice(ix+1, iy)
	c, d := n.lattice(ix, iy+1), n.lattice(ix+1, iy+1)
	return (a*(1-wx)+b*wx)*(1-wy) + (c*(1-wx)+d*wx)*wy
}

// bonaFide is the photo as a webcam frame: fitted into 640×480 (cropped to the frame's
// aspect around the face), the webcam stage applied by the caller.
func bonaFide(src *rgbf, face image.Rectangle) *rgbf {
	// Crop to 4:3 around the face, never cutting the face.
	w, h := src.w, src.h
	if w*3 > h*4 {
		w = h * 4 / 3
	} else {
		h = w * 3 / 4
	}
	cx, cy := (face.Min.X+face.Max.X)/2, (face.Min.Y+face.Max.Y)/2
	x0 := min(max(cx-w/2, 0), src.w-w)
	y0 := min(max(cy-h/2, 0), src.h-h)
	f := newRGBF(frameW, frameH)
	s := float64(w) / frameW
	for y := range frameH {
		for x := range frameW {
			v := src.bilinear(float64(x0)+(float64(x)+0.5)*s, float64(y0)+(float64(y)+0.5)*s)
			copy(f.p[3*(y*frameW+x):], v[:])
		}
	}
	return f
}

// webcam blurs (optics), adds sensor noise and JPEG-compresses the frame, returning the JPEG.
func webcam(f *rgbf, rng *rand.Rand) ([]byte, error) {
	blur(f, 0.6+rng.Float64()*0.5)
	sigma := 2 + rng.Float64()*3
	img := image.NewRGBA(image.Rect(0, 0, f.w, f.h))
	for i := 0; i < f.w*f.h; i++ {
		for k := range 3 {
			img.Pix[4*i+k] = clamp(f.p[3*i+k] + rng.NormFloat64()*sigma)
		}
		img.Pix[4*i+3] = 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 70 + rng.IntN(16)}); err != nil {
		return nil, fmt.Errorf("jpeg: %w", err)
	}
	return buf.Bytes(), nil
}

// blur is a separable Gaussian blur with standard deviation sigma pixels.
func blur(f *rgbf, sigma float64) {
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	sum := 0.0
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	tmp := make([]float64, len(f.p))
	pass := func(dst, src []float64, dx, dy int) {
		for y := range f.h {
			for x := range f.w {
				for c := range 3 {
					acc := 0.0
					for i, w := range k {
						xx := min(max(x+(i-r)*dx, 0), f.w-1)
						yy := min(max(y+(i-r)*dy, 0), f.h-1)
						acc += w * src[3*(yy*f.w+xx)+c]
					}
					dst[3*(y*f.w+x)+c] = acc
				}
			}
		}
	}
	pass(tmp, f.p, 1, 0)
	pass(f.p, tmp, 0, 1)
}

func clamp(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// invert3 inverts a 3×3 matrix stored row by row.
func invert3(m [9]float64) [9]float64 {
	a, b, c := m[0], m[1], m[2]
	d, e, f := m[3], m[4], m[5]
	g, h, i := m[6], m[7], m[8]
	A, B, C := e*i-f*h, -(d*i - f*g), d*h-e*g
	det := a*A + b*B + c*C
	return [9]float64{
		A / det, -(b*i - c*h) / det, (b*f - c*e) / det,
		B / det, (a*i - c*g) / det, -(a*f - c*d) / det,
		C / det, -(a*h - b*g) / det, (a*e - b*d) / det,
	}
}
