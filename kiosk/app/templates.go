package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // reference photos are JPEG
	"sync"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/quality"
)

// residentLookup finds a resident in the kiosk's snapshot (the store).
type residentLookup interface {
	ResidentByNIK(ctx context.Context, nik kiosk.NIK) (kiosk.Resident, error)
}

// photoTemplates is the pipeline's face.TemplateSource: a resident's modern template is
// computed from the small reference photo the snapshot carries, on first use, and kept per
// engine until the snapshot changes. Snapshots do not carry modern templates yet (see
// BENCHMARKS.md): a resident without a photo has none, and dlib decides for them.
type photoTemplates struct {
	p *FacePipeline

	mu     sync.Mutex
	lookup residentLookup
	cache  map[string]face.Embedding // engine + NIK → template (nil: the resident has none)
}

var _ face.TemplateSource = (*photoTemplates)(nil)

// reset forgets every template and reads residents from lk from now on.
func (t *photoTemplates) reset(lk residentLookup) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lookup, t.cache = lk, nil
}

// Template implements face.TemplateSource.
func (t *photoTemplates) Template(ctx context.Context, m *face.Modern, nik kiosk.NIK) (face.Embedding, error) {
	key := m.Model().Engine + "/" + string(nik)
	t.mu.Lock()
	e, ok := t.cache[key]
	lk := t.lookup
	t.mu.Unlock()
	if ok || lk == nil {
		return e, nil
	}
	r, err := lk.ResidentByNIK(ctx, nik)
	if err != nil {
		return nil, err
	}
	if len(r.Photo) > 0 {
		if e, err = t.p.photoTemplate(ctx, m, r.Photo); err != nil {
			// A photo without a usable face gives no template; dlib decides for this resident.
			t.p.log().Warn("no modern template from the reference photo", "nik", nik.Masked(), "err", err)
			e = nil
		}
	}
	t.mu.Lock()
	if t.cache == nil {
		t.cache = map[string]face.Embedding{}
	}
	t.cache[key] = e
	t.mu.Unlock()
	return e, nil
}

// photoTemplate is the modern template of the one face in a reference photo (JPEG). A small
// chip is framed in grey first: HOG misses a face that fills the whole picture.
func (p *FacePipeline) photoTemplate(ctx context.Context, m *face.Modern, photo []byte) (face.Embedding, error) {
	img, _, err := image.Decode(bytes.NewReader(photo))
	if err != nil {
		return nil, fmt.Errorf("reference photo: %w", err)
	}
	obs, err := p.Analyzer.Analyze(ctx, img)
	var h quality.Hint
	if errors.As(err, &h) && h == quality.HintNoFace {
		img = framed(img)
		obs, err = p.Analyzer.Analyze(ctx, img)
	}
	if err != nil {
		return nil, fmt.Errorf("reference photo: %w", err)
	}
	// The gate judges live frames; a reference photo that fails it is still described.
	return m.Embed(ctx, img, obs.Shape)
}

// framed puts img in the middle of a grey picture twice its size.
func framed(img image.Image) image.Image {
	b := img.Bounds()
	canvas := image.NewRGBA(image.Rect(0, 0, 2*b.Dx(), 2*b.Dy()))
	draw.Draw(canvas, canvas.Bounds(), &image.Uniform{color.Gray{Y: 128}}, image.Point{}, draw.Src)
	draw.Draw(canvas, b.Add(image.Pt(b.Dx()/2, b.Dy()/2)).Sub(b.Min), img, b.Min, draw.Src)
	return canvas
}
