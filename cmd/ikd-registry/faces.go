//go:build cgo

package main

import (
	"io"
	"log/slog"

	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/sync/registry"
)

// openFaces loads the kiosks' face engines from dir, for an import that describes reference
// photos (dlib, and the modern engine when its model is there), and names the engines.
func openFaces(dir string, log *slog.Logger) (registry.PhotoDescriber, io.Closer, string, error) {
	p, err := app.LoadFace(dir, face.DefaultOptions(), log)
	if err != nil {
		return nil, nil, "", err
	}
	engines := "dlib alone (" + p.ModernReason + ")"
	if p.Modern != nil {
		m := p.Modern.Model()
		engines = "dlib and " + m.File + " (" + m.Engine + ")"
	}
	return p, p, engines, nil
}
