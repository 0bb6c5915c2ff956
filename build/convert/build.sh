#!/usr/bin/env bash
# Builds the face-api → dlib converter: build/convert/build.sh OUT (skipped when OUT is newer
# than the source). Needs g++ and Debian's libdlib-dev (dlib's DNN is header-only templates).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: build/convert/build.sh OUT}
src=build/convert/face_api_to_dlib.cc
if [ "$out" -nt "$src" ]; then exit 0; fi
mkdir -p "$(dirname "$out")"
# -ffp-contract=off: no fused multiply-add in the dequantisation, so the converted bytes do not
# depend on the build machine's CPU. No -march=native for the same reason.
# shellcheck disable=SC2046 # pkg-config prints several words on purpose
g++ -std=c++14 -O2 -ffp-contract=off -o "$out.part" "$src" $(pkg-config --cflags --libs dlib-1)
mv "$out.part" "$out"
