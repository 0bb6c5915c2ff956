//go:build cgo

package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/sync/registry"
)

// openFaces loads the kiosks' face engines from dir once per worker, for an import that
// describes reference photos (dlib, and the modern engine when its model is there), and names
// the engines.
func openFaces(dir string, workers int, log *slog.Logger) (registry.PhotoDescriber, io.Closer, string, error) {
	pool := make(pipelines, max(1, workers))
	for range cap(pool) {
		p, err := app.LoadFace(dir, face.DefaultOptions(), log)
		if err != nil {
			pool.Close()
			return nil, nil, "", err
		}
		pool <- p
	}
	p := <-pool
	engines := "dlib alone (" + p.ModernReason + ")"
	if p.Modern != nil {
		m := p.Modern.Model()
		engines = "dlib and " + m.File + " (" + m.Engine + ")"
	}
	pool <- p
	return pool, pool, engines, nil
}

// pipelines is a pool of face pipelines, one per worker: one pipeline's dlib stages run one
// at a time.
type pipelines chan *app.FacePipeline

func (p pipelines) PhotoReferences(ctx context.Context, photo []byte) (kiosk.Descriptor, []kiosk.Template, error) {
	var fp *app.FacePipeline
	select {
	case fp = <-p:
	case <-ctx.Done():
		return kiosk.Descriptor{}, nil, ctx.Err()
	}
	defer func() { p <- fp }()
	return fp.PhotoReferences(ctx, photo)
}

// Close closes the pipelines in the pool; none may be in use.
func (p pipelines) Close() error {
	var errs []error
	for len(p) > 0 {
		errs = append(errs, (<-p).Close())
	}
	return errors.Join(errs...)
}
