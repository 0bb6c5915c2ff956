#!/usr/bin/env bash
# The slower model checks (make check-models): installs the models as a fresh machine would
# (no ../shared, no dlib.net) into a temporary directory, then runs the converter tests and the
# descriptor sanity check and the calibration check on the result. The tests use the shared photos when $IKD_SHARED (or
# ../shared) has them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/empty-shared"

IKD_SHARED="$tmp/empty-shared" IKD_DLIB_NET=0 IKD_MODELS="$tmp/models" IKD_MODELS_CACHE="$tmp/cache" \
  build/models.sh
for f in "$tmp"/models/*.dat; do
  if [ "$(sha256sum "$f" | cut -d' ' -f1)" = 23d0982c48a24fb4f50c3df2128e6d17f3b6d47c9d309ced6e3acff0adfd0bfb ]; then
    echo "check-models: $f is the random-weight stand-in" >&2
    exit 1
  fi
done

IKD_MODELS="$tmp/models" IKD_CONVERTER="$PWD/bin/face_api_to_dlib" \
  IKD_FACE_API_TGZ="$tmp/cache/vladmandic-face-api-1.7.15.tgz" \
  go test -tags models -count=1 -v ./build/modelcheck/
# The converted model against the calibration's assumptions, through the real pipeline (needs
# the shared photos: skips with its reason without them), and corrupt copies of the installed
# models refused with a specific error.
IKD_REAL_MODELS="$tmp/models" go test -count=1 -v -run 'TestSlowConvertedModelFitsTheCalibration|TestSlowLoadCorruptModelIsAnError' ./kiosk/face/dlib/
# The modern engine (fr_feature.onnx through OpenCV's DNN module) on the installed file and on
# the shared photos.
IKD_REAL_MODELS="$tmp/models" go test -count=1 -v ./kiosk/face/opencvdnn/
# The registry describing reference photos on import (`residents import --models`), and the
# kiosk's 1:N index built from those templates as from the photos.
IKD_REAL_MODELS="$tmp/models" go test -count=1 -v -run 'TestSlowResidentsImportDescribesPhotos' ./cmd/ikd-registry/
IKD_REAL_MODELS="$tmp/models" go test -count=1 -v -run 'TestSlowModernIndexOnDebianJohns' ./kiosk/app/
# The demo's real face comparison on those models with Debian's photos (and its refusal of a
# held-up photo after a genuine visit), as a fresh machine runs
# it (IKD_SHARED empty).
IKD_SHARED="$tmp/empty-shared" IKD_REAL_MODELS="$tmp/models" go test -count=1 -v \
  -run 'TestSlowDemoRealFaceOnAFreshMachine|TestSlowDemoPhotosPassTheGates|TestSlowDemoRefusesAHeldUpPhoto' ./cmd/ikd-kiosk/
