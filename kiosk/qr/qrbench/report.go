package qrbench

import (
	"fmt"
	"image"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the report: times per frame size, success per condition, and a last
// summary line for scripts:
//
//	qr-bench-real ours <n>/<total> zxing-cpp <n> zbar <n> plain-gozxing <n>
//
// (the real photos as taken; "-" = not installed; the shrunk photos are in the table only)
//
//	qr-bench ours-success <0..1> best-peer-success <0..1> nocode-ms <median> plain-gozxing-nocode-ms <median>
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "QR scanner benchmark: %d frame(s) per condition and size, %d no-code frame(s) per size.\n",
		r.Options.FramesPerCondition, r.Options.NoCodeFrames)
	b.WriteString("ours: fresh Scanner per code frame; one Scanner across the no-code frames (a camera stream).\n")
	b.WriteString("Peer times are per command run and INCLUDE process start-up and PNG loading;\n")
	b.WriteString("start-up = the same command on a blank 32x32 PNG, so decode cost ~ time - start-up.\n\n")

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "decoder\tframe\tcode median ms\tcode p95 ms\tno-code median ms\tno-code p95 ms\tstart-up median ms\t")
	for _, d := range r.Decoders {
		if !d.Installed {
			fmt.Fprintf(tw, "%s\tnot installed\t\t\t\t\t\t\n", d.Name)
			continue
		}
		startup := "-"
		if d.IsPeer {
			startup = fmt.Sprintf("%.1f", d.Startup.Median)
		}
		for _, s := range d.Sizes {
			fmt.Fprintf(tw, "%s\t%dx%d\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t\n", d.Name, s.Size.X, s.Size.Y,
				s.Code.Median, s.Code.P95, s.NoCode.Median, s.NoCode.P95, startup)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	b.WriteString("\nsuccess per condition (frames read correctly / frames, all sizes):\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "condition\t")
	for _, d := range r.Decoders {
		fmt.Fprintf(tw, "%s\t", d.Name)
	}
	fmt.Fprintln(tw)
	for _, c := range r.Options.Conditions {
		fmt.Fprintf(tw, "%s\t", c.Name)
		for _, d := range r.Decoders {
			if !d.Installed {
				fmt.Fprint(tw, "not installed\t")
				continue
			}
			fmt.Fprintf(tw, "%d/%d\t", d.Decoded[c.Name], r.PerCond[c.Name])
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprint(tw, "all conditions\t")
	for _, d := range r.Decoders {
		if !d.Installed {
			fmt.Fprint(tw, "not installed\t")
			continue
		}
		fmt.Fprintf(tw, "%.3f\t", d.Success())
	}
	fmt.Fprintln(tw)
	if err := tw.Flush(); err != nil {
		return err
	}

	if err := r.writePhotos(&b); err != nil {
		return err
	}

	ours, plain := r.Decoders[0], r.Decoders[1]
	best := 0.0
	for _, d := range r.Decoders {
		if d.IsPeer && d.Installed && d.Success() > best {
			best = d.Success()
		}
	}
	hd := image.Pt(1280, 720)
	fmt.Fprintf(&b, "\nqr-bench ours-success %.3f best-peer-success %.3f nocode-ms %.2f plain-gozxing-nocode-ms %.2f\n",
		ours.Success(), best, noCodeMedian(ours, hd), noCodeMedian(plain, hd))
	_, err := io.WriteString(w, b.String())
	return err
}

// writePhotos prints the real-photo section and its summary line (or why it is missing).
func (r *Report) writePhotos(b *strings.Builder) error {
	if r.PhotoSets == nil {
		fmt.Fprintf(b, "\nreal photos: skipped: %v\n", r.PhotoErr)
		return nil
	}
	b.WriteString("\nreal photos (zxing blackbox sets from the gozxing module; one attempt per picture;\n")
	b.WriteString("\"x0.50\" = the photo shrunk to half size by area averaging, i.e. the code further away):\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "set\t")
	for _, d := range r.Decoders {
		fmt.Fprintf(tw, "%s\t", d.Name)
	}
	fmt.Fprintln(tw)
	total := 0
	for _, scale := range PhotoScales {
		for _, set := range PhotoSets() {
			name := PhotoSetName(set, scale)
			if scale == 1 {
				total += r.PhotoSets[name]
			}
			fmt.Fprintf(tw, "%s\t", name)
			for _, d := range r.Decoders {
				if !d.Installed {
					fmt.Fprint(tw, "not installed\t")
					continue
				}
				fmt.Fprintf(tw, "%d/%d\t", d.Photos[name], r.PhotoSets[name])
			}
			fmt.Fprintln(tw)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	count := func(name string) string {
		for _, d := range r.Decoders {
			if d.Name == name && d.Installed {
				return fmt.Sprint(d.PhotosRead(1))
			}
		}
		return "-"
	}
	fmt.Fprintf(b, "\nqr-bench-real ours %d/%d zxing-cpp %s zbar %s plain-gozxing %s\n",
		r.Decoders[0].PhotosRead(1), total, count("zxing-cpp"), count("zbar"), count("gozxing-plain"))
	return nil
}

// noCodeMedian is the decoder's median no-code time at size, or -1 when not measured.
func noCodeMedian(d DecoderResult, size image.Point) float64 {
	for _, s := range d.Sizes {
		if s.Size == size {
			return s.NoCode.Median
		}
	}
	return -1
}
