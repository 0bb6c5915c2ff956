#!/usr/bin/env bash
# The whole test suite: formatting, vet, every package's quick tests under the race detector,
# then every test in full without it.
# Tests that need ../shared data (face photos, real descriptors, dlib models) skip with a
# message when it is absent; set IKD_SHARED to point elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

unformatted=$(gofmt -l cmd kiosk camera sync assets build internal)
if [ -n "$unformatted" ]; then
  echo "gofmt: these files need formatting:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...
# -short leaves the long pixel, photo and calibration runs out of the race pass: they are
# single-goroutine code where the race detector finds nothing and costs 20-40x.
go test -race -short -count=1 -timeout 30m ./...
go test -count=1 -timeout 30m ./...
