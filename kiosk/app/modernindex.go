package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/match"
)

// modernPass collects, during RefreshIndex's pass over the snapshot, the templates of the
// modern engine that the residents carry.
type modernPass struct {
	engine string
	n      int // residents in the snapshot, to size the index
	log    *slog.Logger
	b      *match.TemplateIndexBuilder
	dim    int
	buf    []float32 // the template being added (the builder keeps a quantised copy)
}

// add puts r's template of the engine in the index and says whether it did. A template that
// cannot be compared (another length than the first, all zeros) is left out with a warning,
// so that the resident's photo gives one instead.
func (m *modernPass) add(r kiosk.Resident) bool {
	t, ok := r.TemplateOf(m.engine)
	if !ok {
		return false
	}
	m.buf = t.AppendValues(m.buf[:0])
	v := m.buf
	if m.b == nil {
		m.b, m.dim = match.NewTemplateIndexBuilder(len(v), m.n), len(v)
	}
	if len(v) != m.dim || allZero(v) {
		m.log.Warn("snapshot template not used", "nik", r.NIK.Masked(), "engine", m.engine, "values", len(v), "want", m.dim)
		return false
	}
	return m.b.Add(string(r.NIK), v) == nil
}

// allZero reports a template with no direction, which no cosine can compare.
func allZero(v []float32) bool {
	return !slices.ContainsFunc(v, func(x float32) bool { return x != 0 })
}

// modernIndexOf builds the 1:N index of the modern templates in b (nil: none yet) and those
// embed gives for niks; a resident embed gives no template (nil, nil) is left out, and dlib's
// index covers them. Nil without error when no resident has one.
func modernIndexOf(ctx context.Context, b *match.TemplateIndexBuilder, niks []kiosk.NIK, embed func(context.Context, kiosk.NIK) (face.Embedding, error)) (*match.TemplateIndex, error) {
	for _, nik := range niks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e, err := embed(ctx, nik)
		if err != nil {
			return nil, fmt.Errorf("modern template of %s: %w", nik.Masked(), err)
		}
		if e == nil {
			continue
		}
		if b == nil {
			b = match.NewTemplateIndexBuilder(len(e), len(niks))
		}
		if err := b.Add(string(nik), e); err != nil {
			return nil, err
		}
	}
	if b == nil {
		return nil, nil
	}
	return b.Index()
}

// startModernIndex finishes, in the background, the modern index of the snapshot at cursor:
// b holds the templates the snapshot carries (nil: none), and the residents niks (read
// through lk) have a reference photo and no template, so their photos give theirs. It hands
// the index to the verifier once built, unless the snapshot moved meanwhile. A build still
// running for an older snapshot is stopped first (dropModernIndex). Until it is built the 1:N
// check is dlib's alone. It analyses one photo at a time so the counter keeps the other core.
// p.mu held.
func (p *FacePipeline) startModernIndex(cursor string, lk residentLookup, b *match.TemplateIndexBuilder, niks []kiosk.NIK) {
	p.dropModernIndex()
	ctx, stop := context.WithCancel(p.life)
	built := make(chan struct{})
	p.stopModern, p.modernBuilt = stop, built
	m := p.Modern
	p.bg.Go(func() {
		defer close(built)
		defer stop()
		start := time.Now()
		ix, err := modernIndexOf(ctx, b, niks, func(ctx context.Context, nik kiosk.NIK) (face.Embedding, error) {
			r, err := lk.ResidentByNIK(ctx, nik)
			if err != nil {
				return nil, err
			}
			e, err := p.residentTemplate(ctx, m, r)
			if err != nil && ctx.Err() == nil {
				// A photo without a usable face gives no template, as in photoTemplates.
				p.log().Warn("no modern template from the reference photo", "nik", nik.Masked(), "err", err)
				return nil, nil
			}
			return e, err
		})
		if errors.Is(err, context.Canceled) {
			return
		}
		if err != nil {
			p.log().Warn("modern 1:N index not built: dlib's index alone", "err", err)
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.indexCursor != cursor || ix == nil {
			return
		}
		p.modernIndex = ix
		if err := p.rebuild(); err != nil {
			p.log().Warn("modern 1:N index not used", "err", err)
			return
		}
		p.log().Info("modern 1:N index built", "templates", ix.Len(), "residents", len(niks), "took", time.Since(start).Round(time.Millisecond))
	})
}

// dropModernIndex forgets the modern index of an older snapshot and stops its build, if one
// is running. p.mu held.
func (p *FacePipeline) dropModernIndex() {
	if p.stopModern != nil {
		p.stopModern()
	}
	p.modernIndex = nil
}

// WaitModernIndex waits for the latest background build of the modern 1:N index, if one was
// started, and says how many templates the index in use holds (0: dlib's index alone).
func (p *FacePipeline) WaitModernIndex(ctx context.Context) (int, error) {
	p.mu.Lock()
	built := p.modernBuilt
	p.mu.Unlock()
	if built != nil {
		select {
		case <-built:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.modernIndex == nil {
		return 0, nil
	}
	return p.modernIndex.Len(), nil
}
