#!/usr/bin/env bash
# Puts the three dlib model files go-face loads into $IKD_MODELS (default: ./models).
# Order: files already there; the published models from dlib.net (checked by SHA-256 when
# the kiosk loads them); the development models in ../shared/models. The development set
# includes a random-weight stand-in recognition model: it recognises no one, and the kiosk
# says so loudly at start-up.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${IKD_MODELS:-models}
mkdir -p "$dest"
files=(shape_predictor_5_face_landmarks.dat dlib_face_recognition_resnet_model_v1.dat mmod_human_face_detector.dat)

have_all() { for f in "${files[@]}"; do [ -s "$dest/$f" ] || return 1; done; }

if have_all; then echo "models: using $dest"; exit 0; fi

for f in "${files[@]}"; do
  [ -s "$dest/$f" ] && continue
  if curl -fsSL --connect-timeout 5 --max-time 300 "http://dlib.net/files/$f.bz2" -o "$dest/$f.bz2.part" 2>/dev/null; then
    bunzip2 -c "$dest/$f.bz2.part" > "$dest/$f.part" && mv "$dest/$f.part" "$dest/$f"
    rm -f "$dest/$f.bz2.part"
    echo "models: downloaded $f from dlib.net"
  else
    rm -f "$dest/$f.bz2.part"
  fi
done
if have_all; then exit 0; fi

shared=${IKD_SHARED:-../shared}/models
if [ -d "$shared" ]; then
  for f in "${files[@]}"; do
    [ -s "$dest/$f" ] || cp "$shared/$f" "$dest/$f"
  done
  echo "models: dlib.net unreachable; copied development models from $shared"
  echo "models: WARNING: its recognition model is a random-weight stand-in (see $shared/README.md)"
  exit 0
fi
echo "models: could not obtain the dlib models. Download from http://dlib.net/files/:" >&2
for f in "${files[@]}"; do echo "  $f.bz2 (bunzip2 into $dest/)" >&2; done
exit 1
