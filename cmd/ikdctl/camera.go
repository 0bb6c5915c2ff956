package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image/jpeg"
	"os"
	"strings"
	"time"

	"github.com/ikd-field/ikd/camera"
)

func runCamera(ctx context.Context, e env) error {
	return subcommand(ctx, e, "camera", map[string]func(context.Context, env) error{
		"list": cameraList,
		"snap": cameraSnap,
	})
}

// cameraList prints every /dev/video* node with its formats and frame sizes.
func cameraList(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("camera list", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprintln(e.stderr, "usage: ikdctl camera list") }
	if err := parseCameraFlags(fs, e.args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return &exitError{code: 2, err: errors.New("camera list takes no arguments")}
	}
	devices, err := camera.ListDevices()
	for _, d := range devices {
		if d.Err != nil {
			fmt.Fprintf(e.stdout, "%s  not usable: %v\n", d.Path, d.Err)
			continue
		}
		fmt.Fprintf(e.stdout, "%s  %s  (%s)\n", d.Path, d.Name, d.Bus)
		for _, f := range d.Formats {
			sizes := make([]string, len(f.Sizes))
			for i, s := range f.Sizes {
				sizes[i] = s.String()
			}
			fmt.Fprintf(e.stdout, "  %-4s  %-20s  %s\n", f.Format, f.Description, strings.Join(sizes, " "))
		}
	}
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	return nil
}

// cameraSnap saves one frame from a camera as a JPEG file.
func cameraSnap(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("camera snap", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	device := fs.String("device", camera.DefaultDevice, "V4L2 device node")
	width := fs.Int("width", camera.DefaultSize.Width, "wanted frame width (the closest supported size is used)")
	height := fs.Int("height", camera.DefaultSize.Height, "wanted frame height")
	warmup := fs.Int("warmup", 5, "frames to discard first, while exposure settles")
	quality := fs.Int("quality", 90, "JPEG quality 1-100")
	timeout := fs.Duration("timeout", 15*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: ikdctl camera snap [--device /dev/video0] [--width 1280 --height 720] OUT.jpg")
		fs.PrintDefaults()
	}
	if err := parseCameraFlags(fs, e.args); err != nil {
		return err
	}
	switch {
	case fs.NArg() != 1:
		fs.Usage()
		return &exitError{code: 2, err: errors.New("camera snap needs exactly one output file")}
	case *width <= 0 || *height <= 0:
		return &exitError{code: 2, err: fmt.Errorf("frame size %dx%d: width and height must be positive", *width, *height)}
	case *quality < 1 || *quality > 100:
		return &exitError{code: 2, err: fmt.Errorf("quality %d: must be 1-100", *quality)}
	case *warmup < 0:
		return &exitError{code: 2, err: fmt.Errorf("warmup %d: must not be negative", *warmup)}
	}
	out := fs.Arg(0)

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	cam, err := camera.OpenWebcam(camera.WebcamConfig{Device: *device, Size: camera.Size{Width: *width, Height: *height}})
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	defer cam.Close()
	var frame camera.Frame
	for range *warmup + 1 {
		if frame, err = cam.Next(ctx); err != nil {
			return &exitError{code: 1, err: err}
		}
	}
	if err := writeJPEG(out, frame, *quality); err != nil {
		return err
	}
	b := frame.Image.Bounds()
	fmt.Fprintf(e.stdout, "%s: %dx%d from %s (%v)\n", out, b.Dx(), b.Dy(), *device, cam.Format())
	return nil
}

// parseCameraFlags parses args; a bad flag is a usage error (exit status 2).
func parseCameraFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &exitError{code: 2, err: err}
}

func writeJPEG(path string, frame camera.Frame, quality int) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	if err := jpeg.Encode(f, frame.Image, &jpeg.Options{Quality: quality}); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("save snapshot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("save snapshot %s: %w", path, err)
	}
	return nil
}
