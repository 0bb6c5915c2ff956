package camera

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/makiuchi-d/gozxing"
)

// Grey levels of the scene before contrast, glare and moiré.
const (
	screenLight = 235.0
	screenDark  = 20.0
	bezelGrey   = 28.0
)

// renderBase draws everything except sensor noise into a Width×Height grey plane.
func renderBase(o SceneOptions) ([]byte, error) {
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x1bd5c0de))
	modules, err := qrModules(o.Text)
	if err != nil {
		return nil, err
	}
	bg := renderBackground(o.Width, o.Height, rng)
	ph := newPhone(o, modules, rng)
	ph.draw(bg, o.Width, o.Height)
	blurGaussian(bg, o.Width, o.Height, o.Blur)
	return bg, nil
}

// qrModules are the modules of text's QR code; nil when text is empty.
func qrModules(text string) (*gozxing.BitMatrix, error) {
	if text == "" {
		return nil, nil
	}
	m, _, err := QRModules(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSceneOptions, err)
	}
	return m, nil
}

// renderBackground paints a busy counter: a lit gradient, papers, boxes and printed lines.
func renderBackground(w, h int, rng *rand.Rand) []byte {
	pix := make([]byte, w*h)
	g0, g1 := 60+rng.Float64()*60, 100+rng.Float64()*80
	for y := 0; y < h; y++ {
		row := pix[y*w : (y+1)*w]
		for x := range row {
			t := (float64(x)/float64(w) + float64(y)/float64(h)) / 2
			row[x] = byte(g0 + (g1-g0)*t)
		}
	}
	for range 40 {
		rw, rh := 20+rng.IntN(w/4), 20+rng.IntN(h/4)
		x0, y0 := rng.IntN(w), rng.IntN(h)
		fill := byte(30 + rng.IntN(200))
		fillRect(pix, w, h, x0, y0, rw, rh, fill)
		if rng.IntN(2) == 0 { // a printed page: dark lines of words
			for ly := y0 + 6; ly < y0+rh-4; ly += 5 + rng.IntN(6) {
				for lx := x0 + 4; lx < x0+rw-4; {
					word := 3 + rng.IntN(18)
					fillRect(pix, w, h, lx, ly, min(word, x0+rw-4-lx), 2+rng.IntN(2), fill/4)
					lx += word + 2 + rng.IntN(5)
				}
			}
		}
	}
	return pix
}

func fillRect(pix []byte, w, h, x0, y0, rw, rh int, v byte) {
	x1, y1 := min(x0+rw, w), min(y0+rh, h)
	for y := max(y0, 0); y < y1; y++ {
		row := pix[y*w : (y+1)*w]
		for x := max(x0, 0); x < x1; x++ {
			row[x] = v
		}
	}
}

// phone is the phone in its own plane: units are frame pixels at the phone's centre, the
// origin is the centre of the QR code (or of where it would be).
type phone struct {
	o           SceneOptions
	modules     *gozxing.BitMatrix
	qrHalf      float64
	screen      [4]float64 // left, top, right, bottom
	body        [4]float64
	light, dark float64
	textLines   [][4]float64 // dark bars: app text around the code
	glareX      float64
	glareY      float64
	glareR2     float64
	pitch       float64 // screen pixel pitch, for moiré
	inv         [9]float64
	bbox        [4]int
}

func newPhone(o SceneOptions, modules *gozxing.BitMatrix, rng *rand.Rand) *phone {
	p := &phone{o: o, modules: modules}
	n := 41.0 // layout size when there is no code
	if modules != nil {
		n = float64(modules.GetWidth())
	}
	m := o.ModulePx
	p.qrHalf = n * m / 2
	sw := (n + 12) * m
	sh := sw * 2
	p.screen = [4]float64{-sw / 2, -0.42 * sh, sw / 2, 0.58 * sh}
	bez := 0.05 * sw
	p.body = [4]float64{p.screen[0] - bez, p.screen[1] - 2*bez, p.screen[2] + bez, p.screen[3] + 2*bez}
	mid := (screenLight + screenDark) / 2
	half := o.Contrast * (screenLight - screenDark) / 2
	p.light, p.dark = mid+half, mid-half
	if o.Inverted {
		p.light, p.dark = p.dark, p.light
	}

	// App text: a title above the code and a few lines below; with no code, lines fill its place.
	lineH := math.Max(4, 1.6*m)
	addLines := func(top, bottom float64) {
		for y := top; y+lineH < bottom; y += 2.2 * lineH {
			for x := p.screen[0] + 3*m; x < p.screen[2]-3*m; {
				word := (2 + rng.Float64()*6) * lineH
				right := math.Min(x+word, p.screen[2]-3*m)
				p.textLines = append(p.textLines, [4]float64{x, y, right, y + lineH})
				x = right + lineH
			}
		}
	}
	addLines(p.screen[1]+4*m, -p.qrHalf-5*m) // keep the 4-module quiet zone
	if modules == nil {
		addLines(-p.qrHalf, p.qrHalf)
	}
	addLines(p.qrHalf+5*m, p.screen[3]-4*m)

	p.glareX = (rng.Float64() - 0.5) * sw * 0.6
	p.glareY = (rng.Float64() - 0.5) * sw * 0.6
	p.glareR2 = math.Pow(0.3*sw, 2)
	p.pitch = math.Max(0.3, m/7)

	// Projection: rotate in the plane, tilt about the frame's horizontal axis, then a pinhole
	// camera at distance d with focal length d (scale 1 at the centre).
	rot := o.RotationDeg * math.Pi / 180
	tilt := o.PerspectiveDeg * math.Pi / 180
	d := 1.2 * float64(o.Width)
	cx := float64(o.Width)/2 + (rng.Float64()-0.5)*math.Max(0, float64(o.Width)/2-2*p.qrHalf)
	cy := float64(o.Height)/2 + (rng.Float64()-0.5)*math.Max(0, float64(o.Height)/2-2*p.qrHalf)
	sr, cr, st, ct := math.Sin(rot), math.Cos(rot), math.Sin(tilt), math.Cos(tilt)
	h := [9]float64{
		cx*st*sr + d*cr, cx*st*cr - d*sr, cx * d,
		cy*st*sr + d*ct*sr, cy*st*cr + d*ct*cr, cy * d,
		st * sr, st * cr, d,
	}
	p.inv = invert3(h)
	p.bbox = [4]int{o.Width, o.Height, 0, 0}
	for _, c := range [][2]float64{{p.body[0], p.body[1]}, {p.body[2], p.body[1]}, {p.body[0], p.body[3]}, {p.body[2], p.body[3]}} {
		w := h[6]*c[0] + h[7]*c[1] + h[8]
		x, y := (h[0]*c[0]+h[1]*c[1]+h[2])/w, (h[3]*c[0]+h[4]*c[1]+h[5])/w
		p.bbox[0] = min(p.bbox[0], max(0, int(x)-1))
		p.bbox[1] = min(p.bbox[1], max(0, int(y)-1))
		p.bbox[2] = max(p.bbox[2], min(o.Width, int(x)+2))
		p.bbox[3] = max(p.bbox[3], min(o.Height, int(y)+2))
	}
	return p
}

// draw renders the phone over the background, averaging 2×2 samples per pixel (3×3 for tiny
// modules) so module edges are anti-aliased the way a lens and sensor average them.
func (p *phone) draw(pix []byte, w, h int) {
	ss := 2
	if p.o.ModulePx < 3 {
		ss = 3
	}
	step := 1 / float64(ss)
	for y := p.bbox[1]; y < p.bbox[3]; y++ {
		for x := p.bbox[0]; x < p.bbox[2]; x++ {
			bg := float64(pix[y*w+x])
			sum, hit := 0.0, false
			for sy := range ss {
				fy := float64(y) + (float64(sy)+0.5)*step
				for sx := range ss {
					fx := float64(x) + (float64(sx)+0.5)*step
					v, in := p.sample(fx, fy)
					if in {
						hit = true
					} else {
						v = bg
					}
					sum += v
				}
			}
			if hit {
				pix[y*w+x] = clampByte(sum / float64(ss*ss))
			}
		}
	}
}

// sample returns the light leaving the phone at frame point (fx, fy); in is false off the phone.
func (p *phone) sample(fx, fy float64) (v float64, in bool) {
	q := &p.inv
	wd := q[6]*fx + q[7]*fy + q[8]
	u := (q[0]*fx + q[1]*fy + q[2]) / wd
	t := (q[3]*fx + q[4]*fy + q[5]) / wd
	if u < p.body[0] || u >= p.body[2] || t < p.body[1] || t >= p.body[3] {
		return 0, false
	}
	if u < p.screen[0] || u >= p.screen[2] || t < p.screen[1] || t >= p.screen[3] {
		return bezelGrey, true
	}
	v = p.light
	if p.isDark(u, t) {
		v = p.dark
	}
	if p.o.Moire > 0 {
		v *= p.subpixel(u, t)
	}
	if p.o.Glare > 0 {
		dx, dy := u-p.glareX, t-p.glareY
		v += p.o.Glare * 230 * math.Exp(-(dx*dx+dy*dy)/(2*p.glareR2))
	}
	return v, true
}

func (p *phone) isDark(u, t float64) bool {
	if p.modules != nil && u >= -p.qrHalf && u < p.qrHalf && t >= -p.qrHalf && t < p.qrHalf {
		n := p.modules.GetWidth()
		mx := min(int((u+p.qrHalf)/p.o.ModulePx), n-1)
		my := min(int((t+p.qrHalf)/p.o.ModulePx), n-1)
		return p.modules.Get(mx, my)
	}
	for _, r := range p.textLines {
		if u >= r[0] && u < r[2] && t >= r[1] && t < r[3] {
			return true
		}
	}
	return false
}

// subpixel models the screen's pixel structure: red, green and blue stripes of different
// brightness and a dark gap between pixel rows. Its mean is 1; sampled by the webcam's
// coarser grid it aliases into moiré bands.
func (p *phone) subpixel(u, t float64) float64 {
	fu := u/p.pitch - math.Floor(u/p.pitch)
	ft := t/p.pitch - math.Floor(t/p.pitch)
	stripe := 0.9 // red
	switch {
	case fu >= 2.0/3:
		stripe = 0.33 // blue
	case fu >= 1.0/3:
		stripe = 1.77 // green
	}
	row := 1.0
	if ft > 0.8 {
		row = 0.3
	}
	return (1 - p.o.Moire) + p.o.Moire*stripe*row/0.86
}

// invert3 inverts a 3×3 matrix stored row by row; the projection is never singular.
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

func clampByte(v float64) byte {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return byte(v + 0.5)
}
