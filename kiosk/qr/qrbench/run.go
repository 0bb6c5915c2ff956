package qrbench

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ikd-field/ikd/kiosk/qr"
)

// Options selects what Run measures.
type Options struct {
	FramesPerCondition int         // code frames per condition and size
	NoCodeFrames       int         // frames with nothing to read, per size
	Conditions         []Condition // nil means Conditions()
	Sizes              []image.Point
	Peers              []Peer // nil means Peers()
	// NewScanner makes the scanner under test; nil means &qr.Scanner{}.
	NewScanner func() qr.Decoder
	// PhotoDir holds the real photos (see Photos); "" means PhotoDir(). When they cannot
	// be found the report says so and the photo section is left out.
	PhotoDir string
}

// Timing summarises per-frame times in milliseconds.
type Timing struct {
	N           int
	Median, P95 float64
}

func timing(d []time.Duration) Timing {
	if len(d) == 0 {
		return Timing{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1000 }
	return Timing{N: len(s), Median: ms(s[len(s)/2]), P95: ms(s[min(len(s)-1, len(s)*95/100)])}
}

// SizeResult is one decoder on one frame size.
type SizeResult struct {
	Size   image.Point
	Code   Timing // frames with a code in view
	NoCode Timing // frames with nothing to read
}

// DecoderResult is everything measured for one decoder.
type DecoderResult struct {
	Name      string
	Installed bool
	IsPeer    bool
	Startup   Timing // peers only: the command on a blank 32×32 image (process start-up)
	Sizes     []SizeResult
	Decoded   map[string]int // condition → frames read correctly, over all sizes
	Frames    int            // code frames attempted
	Correct   int            // code frames read correctly
	Photos    map[string]int // PhotoSetName → pictures read correctly (one attempt each)
}

// PhotosRead is the number of real photos read correctly at scale, over all sets.
func (d DecoderResult) PhotosRead(scale float64) int {
	n := 0
	for _, set := range PhotoSets() {
		n += d.Photos[PhotoSetName(set, scale)]
	}
	return n
}

// Success is the share of code frames read correctly, over all conditions and sizes.
func (d DecoderResult) Success() float64 {
	if d.Frames == 0 {
		return 0
	}
	return float64(d.Correct) / float64(d.Frames)
}

// Report is the outcome of Run.
type Report struct {
	Options  Options
	Decoders []DecoderResult // ours, plain gozxing, then the peers
	PerCond  map[string]int  // condition → frames per decoder (all sizes)
	// PhotoSets counts the real photos per set; empty when they were not found (PhotoErr).
	PhotoSets map[string]int
	PhotoErr  error
}

// Run renders the frames once and measures every decoder on the same frames. Our scanner
// reads each code frame with a fresh Scanner (no memory of earlier frames, like the peers);
// no-code frames go through one Scanner in sequence, as a camera stream would.
func Run(ctx context.Context, opt Options) (*Report, error) {
	if opt.Conditions == nil {
		opt.Conditions = Conditions()
	}
	if opt.Sizes == nil {
		opt.Sizes = Sizes
	}
	if opt.Peers == nil {
		opt.Peers = Peers()
	}
	if opt.NewScanner == nil {
		opt.NewScanner = func() qr.Decoder { return &qr.Scanner{} }
	}
	if opt.FramesPerCondition < 1 || opt.NoCodeFrames < 1 {
		return nil, fmt.Errorf("bench qr: need at least one frame per condition and one no-code frame")
	}
	dir, err := os.MkdirTemp("", "ikd-qr-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench qr: %w", err)
	}
	defer os.RemoveAll(dir)

	rep := &Report{Options: opt, PerCond: map[string]int{}}
	ours := &DecoderResult{Name: "ours", Installed: true, Decoded: map[string]int{}}
	plain := &DecoderResult{Name: "gozxing-plain", Installed: true, Decoded: map[string]int{}}
	peers := make([]*DecoderResult, len(opt.Peers))
	exes := make([]string, len(opt.Peers))
	for i, p := range opt.Peers {
		peers[i] = &DecoderResult{Name: p.Name, IsPeer: true, Decoded: map[string]int{}}
		if exes[i], err = p.path(); err == nil {
			peers[i].Installed = true
		}
	}
	if err := measureStartup(ctx, dir, opt.Peers, exes, peers); err != nil {
		return nil, err
	}

	for _, size := range opt.Sizes {
		var oursCode, oursEmpty, plainCode, plainEmpty []time.Duration
		peerCode := make([][]time.Duration, len(peers))
		peerEmpty := make([][]time.Duration, len(peers))
		stream := opt.NewScanner()
		conds := append(slices.Clone(opt.Conditions), NoCode)
		for _, c := range conds {
			n := opt.FramesPerCondition
			if c.Name == NoCode.Name {
				n = opt.NoCodeFrames
			} else {
				rep.PerCond[c.Name] += n
			}
			frames, err := Frames(c, size, n)
			if err != nil {
				return nil, fmt.Errorf("bench qr: %w", err)
			}
			for i, f := range frames {
				empty := f.Want == ""
				sc := stream
				if !empty {
					sc = opt.NewScanner()
				}
				d, ok, err := timed(ctx, sc, f)
				if err != nil {
					return nil, err
				}
				record(ours, c.Name, empty, ok, d, &oursCode, &oursEmpty)
				d, ok, err = timed(ctx, qr.Plain{}, f)
				if err != nil {
					return nil, err
				}
				record(plain, c.Name, empty, ok, d, &plainCode, &plainEmpty)

				file, err := writePNG(dir, fmt.Sprintf("%s-%dx%d-%d.png", c.Name, size.X, size.Y, i), f.Image)
				if err != nil {
					return nil, fmt.Errorf("bench qr: %w", err)
				}
				for j, p := range opt.Peers {
					if !peers[j].Installed {
						continue
					}
					t0 := time.Now()
					text, err := p.read(ctx, exes[j], file)
					d := time.Since(t0)
					if err != nil {
						return nil, fmt.Errorf("bench qr: %w", err)
					}
					record(peers[j], c.Name, empty, !empty && text == f.Want, d, &peerCode[j], &peerEmpty[j])
				}
				if err := os.Remove(file); err != nil {
					return nil, fmt.Errorf("bench qr: %w", err)
				}
			}
		}
		ours.Sizes = append(ours.Sizes, SizeResult{size, timing(oursCode), timing(oursEmpty)})
		plain.Sizes = append(plain.Sizes, SizeResult{size, timing(plainCode), timing(plainEmpty)})
		for j := range peers {
			peers[j].Sizes = append(peers[j].Sizes, SizeResult{size, timing(peerCode[j]), timing(peerEmpty[j])})
		}
	}
	if err := runPhotos(ctx, rep, opt, append([]*DecoderResult{ours, plain}, peers...), exes, dir); err != nil {
		return nil, err
	}
	rep.Decoders = append(rep.Decoders, *ours, *plain)
	for _, p := range peers {
		rep.Decoders = append(rep.Decoders, *p)
	}
	return rep, nil
}

// runPhotos reads every real photo once with each decoder, at every scale: a fresh Scanner
// per picture (the default budget), plain gozxing, and the peers on the original file (or
// a PNG of the shrunk picture in tmp).
func runPhotos(ctx context.Context, rep *Report, opt Options, res []*DecoderResult, exes []string, tmp string) error {
	dir, err := PhotoDir()
	if opt.PhotoDir != "" {
		dir, err = checkPhotoDir(opt.PhotoDir)
	}
	if err != nil {
		rep.PhotoErr = err
		return nil
	}
	rep.PhotoSets = map[string]int{}
	for _, r := range res {
		r.Photos = map[string]int{}
	}
	for _, p := range Photos() {
		img, err := LoadPhoto(dir, p)
		if err != nil {
			return fmt.Errorf("bench qr: %w", err)
		}
		for _, scale := range PhotoScales {
			set := PhotoSetName(p.Set, scale)
			pic, file := img, filepath.Join(dir, p.File)
			if scale != 1 {
				pic = Scaled(img, scale)
				if file, err = writePNG(tmp, "photo.png", pic); err != nil {
					return fmt.Errorf("bench qr: %w", err)
				}
			}
			rep.PhotoSets[set]++
			f := Frame{Image: pic, Want: p.Want}
			for i, d := range []qr.Decoder{opt.NewScanner(), qr.Plain{}} {
				if _, ok, err := timed(ctx, d, f); err != nil {
					return err
				} else if ok {
					res[i].Photos[set]++
				}
			}
			for j, peer := range opt.Peers {
				r := res[2+j]
				if !r.Installed {
					continue
				}
				text, err := peer.read(ctx, exes[j], file)
				if err != nil {
					return fmt.Errorf("bench qr: %w", err)
				}
				if text == p.Want {
					r.Photos[set]++
				}
			}
		}
	}
	return nil
}

// timed decodes one frame and reports whether the right text came out.
func timed(ctx context.Context, d qr.Decoder, f Frame) (time.Duration, bool, error) {
	t0 := time.Now()
	text, _ := d.Decode(ctx, f.Image) // not reading a frame is a result here, not a failure
	el := time.Since(t0)
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	return el, f.Want != "" && text == f.Want, nil
}

func record(r *DecoderResult, cond string, empty, ok bool, d time.Duration, code, none *[]time.Duration) {
	if empty {
		*none = append(*none, d)
		return
	}
	*code = append(*code, d)
	r.Frames++
	if ok {
		r.Correct++
		r.Decoded[cond]++
	}
}

// measureStartup times each installed peer on a blank image: what every run pays before
// any decoding.
func measureStartup(ctx context.Context, dir string, peers []Peer, exes []string, res []*DecoderResult) error {
	blank := image.NewGray(image.Rect(0, 0, 32, 32))
	for i := range blank.Pix {
		blank.Pix[i] = 255
	}
	file, err := writePNG(dir, "blank.png", blank)
	if err != nil {
		return fmt.Errorf("bench qr: %w", err)
	}
	for i, p := range peers {
		if !res[i].Installed {
			continue
		}
		var ds []time.Duration
		for range 7 {
			t0 := time.Now()
			if _, err := p.read(ctx, exes[i], file); err != nil {
				return fmt.Errorf("bench qr: %w", err)
			}
			ds = append(ds, time.Since(t0))
		}
		res[i].Startup = timing(ds)
	}
	return nil
}
