#!/usr/bin/env bash
# The whole test suite: formatting, vet, every test under the race detector with -short, then
# the slow tests without it.
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
# Slow tests (named TestSlow…, see internal/slowtest) skip under -short: pixel, photo,
# calibration and subprocess runs, single-goroutine code where the race detector finds
# nothing and costs 20-40x. They alone run in the second pass, without the race detector.
if grep -rn --include='*_test.go' 'testing.Short()' . | grep -v '^./internal/slowtest/'; then
  echo "test.sh: call slowtest.Skip instead of testing.Short, or the test runs in neither pass" >&2
  exit 1
fi
# -p 4 on two cores: many packages wait on subprocesses, PostgreSQL and the disk.
go test -race -short -p 4 -count=1 -timeout 30m ./...
mapfile -t slow < <(grep -rl --include='*_test.go' '^func TestSlow' . | xargs -n1 dirname | sort -u)
go test -count=1 -timeout 30m -run '^TestSlow' "${slow[@]}"
