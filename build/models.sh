#!/usr/bin/env bash
# Puts the three dlib model files go-face loads into $IKD_MODELS (default: ./models), for each
# file in this order, and prints where each one came from:
#   1. a file already there (a known random-weight stand-in is replaced, not kept);
#   2. dlib.net's published file, checked by SHA-256;
#   3. recognition: the pinned npm package @vladmandic/face-api (integrity checked), converted by
#      build/convert/face_api_to_dlib.cc; landmarks: Debian's 68-point model (libdlib-data),
#      else the development 5-point model in $IKD_SHARED/models; CNN detector: the copy of
#      dlib's file in assets/models/.
# The modern engine's model fr_feature.onnx comes from the pinned npm package
# faceplugin-face-recognition-js (integrity checked); its licence is unverified (see README).
# The development stand-in recognition model is used only with IKD_ALLOW_STANDIN=1.
# Environment: IKD_MODELS, IKD_SHARED (default ../shared), IKD_DLIB_NET=0 (skip dlib.net),
# IKD_MODELS_CACHE (keep the verified face-api tarball there), IKD_ALLOW_STANDIN=1.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${IKD_MODELS:-models}
shared=${IKD_SHARED:-../shared}/models
mkdir -p "$dest"

RECOG=dlib_face_recognition_resnet_model_v1.dat
LMARK=shape_predictor_5_face_landmarks.dat
CNN=mmod_human_face_detector.dat

# Published SHA-256 of the decompressed dlib.net files, as kiosk/face/models.go records them.
declare -A PUBLISHED=(
  [$RECOG]=55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30
  [$LMARK]=c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888
  [$CNN]=be467b1a76f482693de3b0f6a1ff91d092319be71523d4d4b0628f6a53fcb87a
)
STANDIN_SHA256=23d0982c48a24fb4f50c3df2128e6d17f3b6d47c9d309ced6e3acff0adfd0bfb

# The face-api package is pinned by version and by the integrity npm records for it.
FACE_API_VERSION=1.7.15
FACE_API_INTEGRITY=sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw==
FACE_API_TGZ=vladmandic-face-api-$FACE_API_VERSION.tgz
FACE_API_URL=https://registry.npmjs.org/@vladmandic/face-api/-/face-api-$FACE_API_VERSION.tgz
# The converter's output with Debian 12's dlib 19.24: another dlib may serialise differently.
CONVERTED_SHA256=cdb1d47b961fe310ef1f3aa2974c5f65d29c079346760f6b6785c7e405f7266a

# The modern engine's model, pinned the same way; kiosk/face/modern_models.go knows its SHA-256.
MODERN=fr_feature.onnx
MODERN_PKG=faceplugin-face-recognition-js
MODERN_VERSION=0.0.1
MODERN_INTEGRITY=sha512-shriXjd4zJHEwhK1jHK+bWo8Vv6Vu9B/w6RRsd4AFtNM/jaI2vhuOamOSMl9qQmLd8WlQ7dgqN+3C2iOi5pXWw==
MODERN_TGZ=$MODERN_PKG-$MODERN_VERSION.tgz
MODERN_URL=https://registry.npmjs.org/$MODERN_PKG/-/$MODERN_TGZ
MODERN_SHA256=87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581

DEBIAN_68=/usr/share/dlib/shape_predictor_68_face_landmarks.dat
REPO_CNN=assets/models/$CNN

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say() { echo "models: $*"; }
sha256() { sha256sum "$1" | cut -d' ' -f1; }
have() { [ -s "$dest/$1" ]; }

# install SRC FILE HOW: copies SRC into $dest/FILE atomically and says where it came from.
install_file() {
  cp "$1" "$dest/$2.part"
  mv "$dest/$2.part" "$dest/$2"
  say "$2: $3 (sha256 $(sha256 "$dest/$2"))"
}

dlib_net=${IKD_DLIB_NET:-1}
[ "$dlib_net" = 1 ] || say "dlib.net skipped (IKD_DLIB_NET=$dlib_net)"
# from_dlib_net FILE: downloads dlib.net's FILE.bz2 and installs it if its SHA-256 is the
# published one. The first failed connection stops further attempts: an unreachable dlib.net
# costs one connect timeout.
from_dlib_net() {
  [ "$dlib_net" = 1 ] || return 1
  if ! curl -fsSL --connect-timeout 5 --max-time 600 "http://dlib.net/files/$1.bz2" -o "$work/$1.bz2" 2>"$work/curl.err"; then
    say "dlib.net unreachable ($(head -c 200 "$work/curl.err")); not trying it again"
    dlib_net=0
    return 1
  fi
  bunzip2 -c "$work/$1.bz2" > "$work/$1"
  local got
  got=$(sha256 "$work/$1")
  if [ "$got" != "${PUBLISHED[$1]}" ]; then
    say "$1 from dlib.net has SHA-256 $got, not the published ${PUBLISHED[$1]}: not installed" >&2
    return 1
  fi
  install_file "$work/$1" "$1" "dlib.net's published file"
}

# The face-api functions run as conditions (set -e is off inside them), so every step checks
# its own status. A tarball that fails its integrity check stops the script: never fall back.

# npm_tarball SPEC TGZ URL INTEGRITY: fetches the pinned package SPEC (npm when present, else
# curl from URL) into $work/TGZ and checks npm's sha512 INTEGRITY with coreutils.
npm_tarball() {
  local spec=$1 name=$2 url=$3 integrity=$4
  local tgz="$work/$name"
  if [ -n "${IKD_MODELS_CACHE:-}" ] && [ -s "$IKD_MODELS_CACHE/$name" ]; then
    cp "$IKD_MODELS_CACHE/$name" "$tgz"
    say "$spec: $name from $IKD_MODELS_CACHE"
  elif command -v npm >/dev/null 2>&1; then
    if ! (cd "$work" && npm pack --silent "$spec" >/dev/null); then
      echo "models: npm pack $spec failed (registry unreachable?)" >&2
      return 1
    fi
    say "$spec: $name fetched with npm pack"
  else
    if ! curl -fsSL --connect-timeout 10 --max-time 600 "$url" -o "$tgz"; then
      echo "models: could not download $url (npm registry unreachable?)" >&2
      return 1
    fi
    say "$spec: $name fetched with curl from $url"
  fi
  local want got
  want=$(printf '%s' "${integrity#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
  got=$(sha512sum "$tgz" | cut -d' ' -f1)
  if [ "$got" != "$want" ]; then
    echo "models: $name does not match the pinned integrity $integrity (sha512 $got): refusing it" >&2
    exit 1
  fi
  say "$spec: integrity $integrity verified"
  if [ -n "${IKD_MODELS_CACHE:-}" ]; then
    mkdir -p "$IKD_MODELS_CACHE" && cp "$tgz" "$IKD_MODELS_CACHE/$name" || return 1
  fi
}

face_api_tarball() {
  npm_tarball "@vladmandic/face-api@$FACE_API_VERSION" "$FACE_API_TGZ" "$FACE_API_URL" "$FACE_API_INTEGRITY"
}

# from_faceplugin: the modern engine's ONNX model, as the package ships it (no conversion).
from_faceplugin() {
  npm_tarball "$MODERN_PKG@$MODERN_VERSION" "$MODERN_TGZ" "$MODERN_URL" "$MODERN_INTEGRITY" || return 1
  tar -xzf "$work/$MODERN_TGZ" -C "$work" package/LICENSE "package/model/$MODERN" || return 1
  if [ "$(sha256 "$work/package/model/$MODERN")" != "$MODERN_SHA256" ]; then
    echo "models: $MODERN in $MODERN_TGZ has SHA-256 $(sha256 "$work/package/model/$MODERN"), not $MODERN_SHA256: refusing it" >&2
    exit 1
  fi
  install_file "$work/package/model/$MODERN" "$MODERN" \
    "from npm $MODERN_PKG@$MODERN_VERSION (package says MIT; training data of the weights not stated: licence UNVERIFIED)"
}

# from_face_api: converts face-api's TF.js port of dlib's ResNet into go-face's network type.
from_face_api() {
  face_api_tarball || return 1
  tar -xzf "$work/$FACE_API_TGZ" -C "$work" package/LICENSE \
    package/model/face_recognition_model.bin package/model/face_recognition_model-weights_manifest.json || return 1
  say "face-api: building the converter if needed (g++ with dlib's headers, about 30 s)"
  build/convert/build.sh bin/face_api_to_dlib || return 1
  local start
  start=$(date +%s%N)
  bin/face_api_to_dlib "$work/package/model/face_recognition_model-weights_manifest.json" \
    "$work/package/model/face_recognition_model.bin" "$work/$RECOG" || return 1
  say "$RECOG: converted in $((($(date +%s%N) - start) / 1000000)) ms"
  if [ "$(sha256 "$work/$RECOG")" != "$CONVERTED_SHA256" ]; then
    say "WARNING: the converted file differs from the Debian 12 / dlib 19.24 result $CONVERTED_SHA256;" \
      "the kiosk will not recognise its SHA-256"
  fi
  install_file "$work/$RECOG" "$RECOG" "converted from @vladmandic/face-api@$FACE_API_VERSION (MIT; 8-bit port of dlib's weights)"
}

if have "$RECOG" && [ "$(sha256 "$dest/$RECOG")" = "$STANDIN_SHA256" ] && [ "${IKD_ALLOW_STANDIN:-0}" != 1 ]; then
  say "$RECOG in $dest is the random-weight stand-in: replacing it"
  rm "$dest/$RECOG"
fi

for f in "$RECOG" "$LMARK" "$CNN"; do
  if have "$f"; then say "$f: already in $dest (kept, sha256 $(sha256 "$dest/$f"))"; continue; fi
  from_dlib_net "$f" && continue
  case $f in
  "$RECOG")
    from_face_api || say "$f: the face-api conversion failed (see above)" ;;
  "$LMARK")
    if [ -s "$DEBIAN_68" ]; then
      # go-face loads whatever file has the 5-point name; dlib's chip alignment takes 68 points.
      install_file "$DEBIAN_68" "$f" "Debian's 68-point model $DEBIAN_68 (libdlib-data), under the 5-point name"
    elif [ -s "$shared/$f" ]; then
      install_file "$shared/$f" "$f" "development 5-point model from $shared (trained locally; not for deployment)"
    fi ;;
  "$CNN")
    install_file "$REPO_CNN" "$f" "dlib's published file kept in $REPO_CNN" ;;
  esac
done

if ! have "$RECOG" && [ "${IKD_ALLOW_STANDIN:-0}" = 1 ] && [ -s "$shared/$RECOG" ]; then
  install_file "$shared/$RECOG" "$RECOG" "WARNING: random-weight STAND-IN from $shared (IKD_ALLOW_STANDIN=1): recognises no one"
fi

# The modern engine is optional: without it the kiosk runs dlib alone and says so.
if have "$MODERN"; then
  say "$MODERN: already in $dest (kept, sha256 $(sha256 "$dest/$MODERN"))"
else
  from_faceplugin || say "$MODERN: could not be obtained (see above); the kiosk runs dlib alone"
fi

missing=()
for f in "$RECOG" "$LMARK" "$CNN"; do have "$f" || missing+=("$f"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "models: could not obtain ${missing[*]}. Download them from http://dlib.net/files/ (.bz2)," >&2
  echo "  run bunzip2, check them with sha256sum against build/models.sh, and place them in $dest/." >&2
  if ! have "$RECOG"; then
    echo "  For code-path tests only, IKD_ALLOW_STANDIN=1 installs the development stand-in from" >&2
    echo "  $shared: it recognises no one." >&2
  fi
  exit 1
fi
say "ready in $dest"
