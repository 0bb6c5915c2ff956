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

// photoTemplates is the pipeline's face.TemplateSource: a resident's modern template is the
// one the snapshot carries for the engine (the registry computes them on import when it has
// the models), else computed from the small reference photo on first use; either is kept per
// engine until the snapshot changes. A resident with neither has none, and dlib decides.
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
	if e, err = t.p.residentTemplate(ctx, m, r); err != nil {
		// A photo without a usable face gives no template; dlib decides for this resident.
		t.p.log().Warn("no modern template from the reference photo", "nik", nik.Masked(), "err", err)
		e = nil
	}
	t.mu.Lock()
	if t.cache == nil {
		t.cache = map[string]face.Embedding{}
	}
	t.cache[key] = e
	t.mu.Unlock()
	return e, nil
}

// residentTemplate is r's template for m: the snapshot's own when it carries a usable one of
// m's engine (never one of another engine or version), else one computed from the reference
// photo; nil without error when r has neither.
func (p *FacePipeline) residentTemplate(ctx context.Context, m *face.Modern, r kiosk.Resident) (face.Embedding, error) {
	if t, ok := r.TemplateOf(m.Model().Engine); ok && !allZero(t.Values()) {
		return face.Embedding(t.Values()), nil
	}
	if len(r.Photo) == 0 {
		return nil, nil
	}
	return p.photoTemplate(ctx, m, r.Photo)
}

// photoTemplate is the modern template of the one face in a reference photo (JPEG).
func (p *FacePipeline) photoTemplate(ctx context.Context, m *face.Modern, photo []byte) (face.Embedding, error) {
	img, obs, err := p.analyzePhoto(ctx, photo)
	if err != nil {
		return nil, err
	}
	return m.Embed(ctx, img, obs.Shape)
}

// PhotoReferences describes the one face of a reference photo (JPEG) with every engine
// loaded: dlib's descriptor and, with the modern engine, its template. The registry calls it
// on import so that kiosks receive templates rather than compute them.
func (p *FacePipeline) PhotoReferences(ctx context.Context, photo []byte) (kiosk.Descriptor, []kiosk.Template, error) {
	img, obs, err := p.analyzePhoto(ctx, photo)
	if err != nil {
		return kiosk.Descriptor{}, nil, err
	}
	if p.Modern == nil {
		return obs.Descriptor, nil, nil
	}
	e, err := p.Modern.Embed(ctx, img, obs.Shape)
	if err != nil {
		return kiosk.Descriptor{}, nil, fmt.Errorf("reference photo: %w", err)
	}
	t, err := kiosk.NewTemplate(p.Modern.Model().Engine, e)
	if err != nil {
		return kiosk.Descriptor{}, nil, fmt.Errorf("reference photo: %w", err)
	}
	return obs.Descriptor, []kiosk.Template{t}, nil
}

// analyzePhoto finds and describes the one face in a reference photo. A small chip is framed
// in grey first: HOG misses a face that fills the whole picture.
func (p *FacePipeline) analyzePhoto(ctx context.Context, photo []byte) (image.Image, face.Observation, error) {
	img, _, err := image.Decode(bytes.NewReader(photo))
	if err != nil {
		return nil, face.Observation{}, fmt.Errorf("reference photo: %w", err)
	}
	obs, err := p.Analyzer.Analyze(ctx, img)
	var h quality.Hint
	if errors.As(err, &h) && h == quality.HintNoFace {
		img = framed(img)
		obs, err = p.Analyzer.Analyze(ctx, img)
	}
	if err != nil {
		return nil, face.Observation{}, fmt.Errorf("reference photo: %w", err)
	}
	// The gate judges live frames; a reference photo that fails it is still described.
	return img, obs, nil
}

// framed puts img in the middle of a grey picture twice its size.
func framed(img image.Image) image.Image {
	b := img.Bounds()
	canvas := image.NewRGBA(image.Rect(0, 0, 2*b.Dx(), 2*b.Dy()))
	draw.Draw(canvas, canvas.Bounds(), &image.Uniform{color.Gray{Y: 128}}, image.Point{}, draw.Src)
	draw.Draw(canvas, b.Add(image.Pt(b.Dx()/2, b.Dy()/2)).Sub(b.Min), img, b.Min, draw.Src)
	return canvas
}
