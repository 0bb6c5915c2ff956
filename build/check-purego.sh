#!/usr/bin/env bash
# make check-purego: everything but the dlib adapter and the binaries that link it builds,
# vets and tests without cgo (DESIGN: the core and the pure adapters test in milliseconds on
# any machine). A package that starts to need cgo by accident fails here.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

# Packages that import go-face (directly or through kiosk/face/dlib) or the OpenCV DNN adapter
# kiosk/face/opencvdnn need cgo by design.
mapfile -t pure < <(go list -f '{{.ImportPath}}{{range .Deps}} {{.}}{{end}}' ./... |
  awk '!/github.com\/Kagami\/go-face/ && !/kiosk\/face\/opencvdnn/ {print $1}')
if [ "${#pure[@]}" -eq 0 ]; then
  echo "check-purego: no packages found" >&2
  exit 1
fi
echo "check-purego: ${#pure[@]} packages without cgo"
CGO_ENABLED=0 go vet "${pure[@]}"
CGO_ENABLED=0 go test -count=1 "${pure[@]}"
# The registry links the face engines only to describe photos on import; without cgo it is
# built without them and says so when asked to.
CGO_ENABLED=0 go test -count=1 -run TestResidentsImportModelsWithoutCgo ./cmd/ikd-registry
