package qr_test

import (
	"context"
	"errors"
	"image"
	"image/draw"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/internal/slowtest"
	"github.com/ikd-field/ikd/kiosk/qr"
	"github.com/ikd-field/ikd/kiosk/qr/qrbench"
)

func render(t testing.TB, o camera.SceneOptions) image.Image {
	t.Helper()
	img, err := camera.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestScannerReadsEveryPictureType(t *testing.T) {
	want := qrbench.TokenText(3)
	scene := camera.SceneOptions{Width: 640, Height: 480, Text: want, ModulePx: 4, Blur: 0.6, Noise: 3, Seed: 3}
	gray := render(t, scene)
	scene.YCbCr = true
	ycc := render(t, scene)
	rgba := image.NewRGBA(gray.Bounds())
	draw.Draw(rgba, rgba.Bounds(), gray, image.Point{}, draw.Src)
	offset := image.NewGray(image.Rect(100, 50, 740, 530)) // bounds not at the origin
	draw.Draw(offset, offset.Bounds(), gray, image.Point{}, draw.Src)

	for name, img := range map[string]image.Image{
		"Gray": gray, "YCbCr": ycc, "RGBA": rgba, "OffsetBounds": offset,
		"SubImage": gray.(*image.Gray).SubImage(image.Rect(40, 0, 600, 480)),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := (&qr.Scanner{Budget: qr.NoBudget}).Decode(context.Background(), img)
			if err != nil || got != want {
				t.Fatalf("Decode = %q, %v; want the token", got, err)
			}
		})
	}
}

func TestScannerNothingToRead(t *testing.T) {
	ctx := context.Background()
	for name, img := range map[string]image.Image{
		"BusySceneNoCode": render(t, camera.SceneOptions{Width: 640, Height: 480, Noise: 3, Seed: 5}),
		"Blank":           image.NewGray(image.Rect(0, 0, 320, 240)),
		"TinyFrame":       image.NewGray(image.Rect(0, 0, 8, 8)),
		"EmptyFrame":      image.NewGray(image.Rectangle{}),
	} {
		t.Run(name, func(t *testing.T) {
			s := &qr.Scanner{}
			for range 3 { // also the frames where the scanner takes a smoothed look
				if text, err := s.Decode(ctx, img); !errors.Is(err, qr.ErrNotFound) {
					t.Fatalf("Decode = %q, %v; want ErrNotFound", text, err)
				}
			}
		})
	}
}

func TestScannerStopsWhenContextEnds(t *testing.T) {
	img := render(t, camera.SceneOptions{Width: 320, Height: 240, Text: "IKD1:X", Seed: 1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (&qr.Scanner{}).Decode(ctx, img); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestSlowScannerSteadyCodeWithinTwoFrames feeds a camera stream: the phone appears after empty
// frames and stays still; the scanner must read it on the first or second frame.
func TestSlowScannerSteadyCodeWithinTwoFrames(t *testing.T) {
	slowtest.Skip(t, "renders and scans nine camera streams")
	for _, c := range qrbench.Conditions() {
		switch c.Name {
		case "baseline-4px", "dark-mode", "noise-20", "small-blurry-noisy-3px", "moire-0.5", "perspective-30-rotate-20",
			"module-2px", "blur-1.8", "moire-0.8-3px":
		default:
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			s := &qr.Scanner{Budget: qr.NoBudget}
			feed(t, s, camera.SceneOptions{Noise: 3, Seed: 9}, 4)
			scene := c.Scene
			scene.Text, scene.Seed = qrbench.TokenText(11), 11
			reads := feed(t, s, scene, 4)
			if len(reads) == 0 || reads[0] > 1 {
				t.Fatalf("read on frames %v, want the first read on frame 0 or 1", reads)
			}
			if len(reads) < 3 {
				t.Fatalf("read %d of 4 frames of a steady code, want at least 3", len(reads))
			}
		})
	}
}

// feed passes n frames of a steady scene to s and returns the frames it read scene.Text on.
// Frames of a scene without text must not read at all.
func feed(t *testing.T, s *qr.Scanner, scene camera.SceneOptions, n int) []int {
	t.Helper()
	ctx := context.Background()
	src, err := camera.NewSyntheticSource(scene, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var reads []int
	for i := range n {
		f, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		text, err := s.Decode(ctx, f.Image)
		switch {
		case scene.Text == "" && !errors.Is(err, qr.ErrNotFound):
			t.Fatalf("empty frame %d: %q, %v", i, text, err)
		case err == nil && text == scene.Text:
			reads = append(reads, i)
		}
	}
	return reads
}

// A clean token, drawn as ikdctl qr make draws it, whose data modules hold a finder-like
// run: gozxing's triple with the false corner maps the grid to NaN positions, which used to
// abort the whole attempt (found by ikdctl qr make: about one fresh token in fifty).
// TestScannerFinderLikeData: signed tokens whose data area holds a 1:1:3:1:1 run that
// gozxing's finder takes for a corner. In the first, gozxing picks the wrong triple; in the
// others, the false pattern is confirmed above the real bottom-left corner and gozxing's
// finder stops scanning before it reaches it (about 1 in 600 random signing keys did so).
func TestScannerFinderLikeData(t *testing.T) {
	for name, want := range map[string]string{
		"WrongTriple":              "IKD1:RRQIEAP60KO0.96KA7A46QW6.962EC8CKS29W50:B0B0082CQS8 1G%I0D90SL6C-H8FEHSN6BML3FM2QFN02OD7%5*U07PE*E5YDDB$DXED1*51TCDF3D-1GQTZODU47HF6*E57F5%4727BX86T24C5F5:U-M14WESO08U5W%U6TNW5KYKTD O61LB7O4YA* N69H*47PDRJN5KEN%R4+RJHQ8VZG 6M7I8N56GNLWLR05W",
		"FalseCornerInsideTheCode": "IKD1:RRQW8AP60JO0ZKE/1DNF6TF64W5EC6B7B35LX50RI3VJ1B+9O-93KS65AREIHPMH%36P95Y7/3E5HGHRKDF3%L0PVHT3E*E5CG5H68B$DXED+%5+3EWY0ZNDP4R9.0E46*96*E5*E56:6AB7Z78%HKJE15LPQ39PDGK:GQL19-4YLRW33F0AO8S2L7X9M7%8PEI7.57OOVL2QV5 O94WG:%DT0QMNGI8KYL3O*O70TD/2$ZTD0",
		"FalseCornerLeftOfCentre":  "IKD1:RRQW8AP60JO0ZKE/1DNF6TF64W5EC6B7B35LX50RI3VJ1B+9O-93KS65AREIHPMH%36P95Y7/3E5HGHRKDF3%L0PVHT3E*E5CG5H68B$DXED+%5+3EWY0ZNDP4R9.0E46*96*E5*E56:6AB7648UHQ8KBKT5.FUANTRTLJ1OBJH-SFUBN.W1MVO.B6POIN46B+0ZLMX/HJWMCZ7NPC/NG2NOPIP%M7$A77R9.8VVS9M86NL230",
	} {
		t.Run(name, func(t *testing.T) {
			img, _, err := camera.DrawQR(want, 6) // what ikdctl qr make writes
			if err != nil {
				t.Fatal(err)
			}
			if got, err := (&qr.Scanner{Budget: qr.NoBudget}).Decode(context.Background(), img); err != nil || got != want {
				t.Fatalf("Decode = %q, %v; want the token", got, err)
			}
		})
	}
}

// TestScannerOutline: the outline of a read code lies on its corners in the frame, wherever
// the code sits, and there is none after a frame with nothing to read.
func TestScannerOutline(t *testing.T) {
	const side = 330 // 33 modules of 10 px
	bits, err := qrcode.NewQRCodeWriter().Encode(qrbench.TokenText(1)[:60], gozxing.BarcodeFormat_QR_CODE, side, side,
		map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_MARGIN: 0})
	if err != nil {
		t.Fatal(err)
	}
	code := image.NewGray(bits.Bounds())
	draw.Draw(code, code.Bounds(), bits, image.Point{}, draw.Src)
	size := code.Bounds().Dx()
	for _, at := range []image.Point{{100, 80}, {700, 300}} {
		frame := image.NewGray(image.Rect(0, 0, 1280, 720))
		draw.Draw(frame, frame.Bounds(), image.White, image.Point{}, draw.Src)
		draw.Draw(frame, code.Bounds().Add(at), code, image.Point{}, draw.Src)
		s := &qr.Scanner{Budget: qr.NoBudget}
		if _, err := s.Decode(context.Background(), frame); err != nil {
			t.Fatal(err)
		}
		want := []image.Point{at, at.Add(image.Pt(size, 0)), at.Add(image.Pt(size, size)), at.Add(image.Pt(0, size))}
		got := s.Outline()
		if len(got) != 4 {
			t.Fatalf("at %v: outline %v, want 4 corners", at, got)
		}
		for i := range want {
			if d := got[i].Sub(want[i]); d.X*d.X+d.Y*d.Y > 15*15 { // within 1.5 modules
				t.Errorf("at %v: corner %d at %v, want about %v", at, i, got[i], want[i])
			}
		}
		blank := image.NewGray(image.Rect(0, 0, 1280, 720))
		if _, err := s.Decode(context.Background(), blank); !errors.Is(err, qr.ErrNotFound) || s.Outline() != nil {
			t.Errorf("after an empty frame: %v, outline %v", err, s.Outline())
		}
	}
}
