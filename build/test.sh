#!/usr/bin/env bash
# The whole test suite: formatting, vet, and every package's tests with the race detector.
# Tests that need ../shared data (face photos, real descriptors, dlib models) skip with a
# message when it is absent; set IKD_SHARED to point elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

unformatted=$(gofmt -l cmd kiosk camera sync assets build)
if [ -n "$unformatted" ]; then
  echo "gofmt: these files need formatting:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...
go test -race -count=1 -timeout 30m ./...
