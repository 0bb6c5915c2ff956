package camera

import (
	"math"
	"math/rand/v2"
)

// blurGaussian blurs the w×h plane in place with a separable Gaussian of the given sigma.
func blurGaussian(pix []byte, w, h int, sigma float64) {
	if sigma <= 0 {
		return
	}
	r := int(math.Ceil(3 * sigma))
	k := make([]float32, 2*r+1)
	var sum float32
	for i := range k {
		d := float64(i - r)
		k[i] = float32(math.Exp(-d * d / (2 * sigma * sigma)))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	tmp := make([]float32, w*h)
	for y := range h { // horizontal pass, clamping at the borders
		row := pix[y*w : (y+1)*w]
		out := tmp[y*w : (y+1)*w]
		for x := range w {
			var acc float32
			for i, kv := range k {
				acc += kv * float32(row[min(max(x+i-r, 0), w-1)])
			}
			out[x] = acc
		}
	}
	for y := range h { // vertical pass
		for x := range w {
			var acc float32
			for i, kv := range k {
				acc += kv * tmp[min(max(y+i-r, 0), h-1)*w+x]
			}
			pix[y*w+x] = clampByte(float64(acc))
		}
	}
}

// noise adds Gaussian sensor noise cheaply: normal deviates come from a small table indexed
// by a seeded PCG, which is ample for a camera model and about ten times faster than
// drawing a fresh deviate per pixel.
type noise struct {
	rng   *rand.Rand
	table [4096]float32
}

func newNoise(seed int64) *noise {
	n := &noise{rng: rand.New(rand.NewPCG(uint64(seed), 0x5e45e))}
	for i := range n.table {
		n.table[i] = float32(n.rng.NormFloat64())
	}
	return n
}

// add adds noise of the given sigma (grey levels) to pix, clamping to 0..255.
func (n *noise) add(pix []byte, sigma float64) {
	if sigma <= 0 {
		return
	}
	s := float32(sigma)
	var bits uint64
	for i := range pix {
		if i%5 == 0 {
			bits = n.rng.Uint64()
		}
		d := n.table[bits&4095] * s
		bits >>= 12
		v := float32(pix[i]) + d
		switch {
		case v <= 0:
			pix[i] = 0
		case v >= 255:
			pix[i] = 255
		default:
			pix[i] = byte(v + 0.5)
		}
	}
}
