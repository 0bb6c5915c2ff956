package qr

import (
	"math/rand/v2"
	"testing"

	"github.com/makiuchi-d/gozxing"
)

// TestHybridBitsMatchesGozxing: the fast binarizer must give exactly gozxing's bits, so the
// scanner's results do not depend on which one ran.
func TestHybridBitsMatchesGozxing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, p := range map[string]plane{
		"Noise1280x720":   randomPlane(rng, 1280, 720, 0, 255),
		"FlatDimRegions":  randomPlane(rng, 333, 97, 100, 120), // every block under the 24-level range
		"OddSize41x57":    randomPlane(rng, 41, 57, 0, 255),
		"WordStraddle61":  randomPlane(rng, 61, 64, 0, 255), // last block starts at x=53
		"TooSmallForHybr": randomPlane(rng, 39, 100, 0, 255),
		"Blocks":          blockyPlane(200, 120),
	} {
		t.Run(name, func(t *testing.T) {
			want, wantErr := gozxing.NewHybridBinarizer(newLuminance(p)).GetBlackMatrix()
			got, err := hybridBits(p)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("err = %v, gozxing's %v", err, wantErr)
			}
			if err != nil {
				return
			}
			for y := range p.h {
				for x := range p.w {
					if got.Get(x, y) != want.Get(x, y) {
						t.Fatalf("bit (%d,%d) = %v, gozxing's %v", x, y, got.Get(x, y), want.Get(x, y))
					}
				}
			}
		})
	}
}

func randomPlane(rng *rand.Rand, w, h, lo, hi int) plane {
	p := plane{pix: make([]byte, w*h), w: w, h: h}
	for i := range p.pix {
		p.pix[i] = byte(lo + rng.IntN(hi-lo+1))
	}
	return p
}

// blockyPlane has flat dark and light areas with sharp edges, the case where gozxing's
// neighbour correction of flat blocks matters.
func blockyPlane(w, h int) plane {
	p := plane{pix: make([]byte, w*h), w: w, h: h}
	for y := range h {
		for x := range w {
			if (x/23+y/17)%3 == 0 {
				p.pix[y*w+x] = 30
			} else {
				p.pix[y*w+x] = 200
			}
		}
	}
	return p
}

func BenchmarkHybrid(b *testing.B) {
	p := randomPlane(rand.New(rand.NewPCG(3, 4)), 1280, 720, 0, 255)
	b.Run("Gozxing", func(b *testing.B) {
		for b.Loop() {
			_, _ = gozxing.NewHybridBinarizer(newLuminance(p)).GetBlackMatrix()
		}
	})
	b.Run("Ours", func(b *testing.B) {
		for b.Loop() {
			_, _ = hybridBits(p)
		}
	})
}
