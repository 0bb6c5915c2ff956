package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // the photo sets are JPEG
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/quality"
)

// photoSet is one folder of photos: labelled sets hold <person>/*.jpg (folders starting with
// "_" skipped); unlabelled sets hold *.jpg, each photo its own label. pad puts a face chip in
// a grey frame twice its size (HOG misses faces that fill the image).
type photoSet struct {
	name, root    string
	labelled, pad bool
}

// sample is one described face.
type sample struct {
	Set, Label, File string
	Descriptor       face.Descriptor
	Embedding        face.Embedding
}

// describe runs every photo through the analyzer (dlib: detection, landmarks, descriptor)
// and the modern engine on the same landmarks. Photos without exactly one face are counted
// and left out: a person's photo must be of that person.
func describe(ctx context.Context, an *face.Analyzer, m *face.Modern, sets []photoSet, log io.Writer) ([]sample, error) {
	var out []sample
	for _, s := range sets {
		pattern := filepath.Join(s.root, "*.jpg")
		if s.labelled {
			pattern = filepath.Join(s.root, "*", "*.jpg")
		}
		files, err := filepath.Glob(pattern)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			fmt.Fprintf(log, "skipped %s: no photos in %s\n", s.name, s.root)
			continue
		}
		sort.Strings(files)
		skipped := 0
		for _, f := range files {
			label := filepath.Base(f)
			if s.labelled {
				label = filepath.Base(filepath.Dir(f))
				if strings.HasPrefix(label, "_") {
					continue
				}
			}
			img, err := readImage(f, s.pad)
			if err != nil {
				return nil, err
			}
			obs, err := an.Analyze(ctx, img)
			var h quality.Hint
			if errors.As(err, &h) {
				fmt.Fprintf(log, "left out %s: %s\n", f, h.Code)
				skipped++
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			e, err := m.Embed(ctx, img, obs.Shape)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			out = append(out, sample{Set: s.name, Label: label, File: f, Descriptor: obs.Descriptor, Embedding: e})
		}
		fmt.Fprintf(log, "%s: %d photos, %d without exactly one face left out\n", s.name, len(files), skipped)
	}
	return out, nil
}

func readImage(path string, pad bool) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	if !pad {
		return img, nil
	}
	b := img.Bounds()
	canvas := image.NewRGBA(image.Rect(0, 0, 2*b.Dx(), 2*b.Dy()))
	draw.Draw(canvas, canvas.Bounds(), &image.Uniform{color.Gray{128}}, image.Point{}, draw.Src)
	draw.Draw(canvas, b.Add(image.Pt(b.Dx()/2, b.Dy()/2)).Sub(b.Min), img, b.Min, draw.Src)
	return canvas, nil
}
