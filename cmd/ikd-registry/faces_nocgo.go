//go:build !cgo

package main

import (
	"errors"
	"io"
	"log/slog"

	"github.com/ikd-field/ikd/sync/registry"
)

// openFaces: a registry built without cgo has no face engines (dlib and OpenCV are C++).
func openFaces(string, int, *slog.Logger) (registry.PhotoDescriber, io.Closer, string, error) {
	return nil, nil, "", errors.New("this ikd-registry was built without cgo and cannot describe photos: build it with CGO_ENABLED=1 (build/setup.sh does) or import without --models")
}
