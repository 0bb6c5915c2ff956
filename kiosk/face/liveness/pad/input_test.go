package pad

import (
	"image"
	"image/color"
	"math"
	"testing"
)

func TestCropRect(t *testing.T) {
	frame := image.Rect(0, 0, 640, 480)
	tests := []struct {
		name string
		f, b image.Rectangle
		want image.Rectangle
	}{
		// 100×100 box at the centre: 270×270 about its centre.
		{"centred", frame, image.Rect(270, 190, 370, 290), image.Rect(185, 105, 455, 375)},
		// Near the top-left corner the crop is shifted inside the frame, not cut.
		{"corner", frame, image.Rect(0, 0, 100, 100), image.Rect(0, 0, 270, 270)},
		// A box too big for 2.7× in the frame: the scale drops to (479)/200.
		{"big face", frame, image.Rect(220, 140, 420, 340), image.Rect(80, 0, 559, 479)},
		{"offset frame", frame.Add(image.Pt(10, 20)), image.Rect(280, 210, 380, 310), image.Rect(195, 125, 465, 395)},
		{"empty box", frame, image.Rect(10, 10, 10, 50), image.Rectangle{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CropRect(tt.f, tt.b); got != tt.want {
				t.Errorf("CropRect = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTensorLayout(t *testing.T) {
	// Left half red, right half blue: planes are R, G, B of raw 0..255 values.
	m := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for y := range 256 {
		for x := range 256 {
			c := color.RGBA{200, 0, 0, 255}
			if x >= 128 {
				c = color.RGBA{0, 0, 50, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	in := Tensor(m, m.Bounds())
	const n = InputSize
	if len(in) != 3*n*n {
		t.Fatalf("%d values, want %d", len(in), 3*n*n)
	}
	at := func(c, x, y int) float32 { return in[c*n*n+y*n+x] }
	for _, tc := range []struct {
		c, x, y int
		want    float32
	}{
		{0, 10, 10, 200}, {1, 10, 10, 0}, {2, 10, 10, 0},
		{0, 120, 64, 0}, {2, 120, 64, 50}, // right half, away from the edge
	} {
		if got := at(tc.c, tc.x, tc.y); math.Abs(float64(got-tc.want)) > 1e-3 {
			t.Errorf("plane %d at (%d,%d) = %g, want %g", tc.c, tc.x, tc.y, got, tc.want)
		}
	}
}

func TestSoftmax(t *testing.T) {
	p := Softmax([]float32{1, 2, 3})
	want := []float64{0.0900, 0.2447, 0.6652}
	for i := range want {
		if math.Abs(p[i]-want[i]) > 1e-4 {
			t.Errorf("softmax[%d] = %.4f, want %.4f", i, p[i], want[i])
		}
	}
	// Large logits do not overflow.
	if p := Softmax([]float32{1000, 1000}); math.Abs(p[0]-0.5) > 1e-9 {
		t.Errorf("softmax of equal large logits = %v", p)
	}
	if Softmax(nil) != nil {
		t.Error("softmax of nothing is not nil")
	}
}
