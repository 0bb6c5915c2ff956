#!/usr/bin/env bash
# Screenshot tests of the kiosk's screens under a virtual X display with Mesa's software GL.
# Writes the PNGs to $IKD_UI_SHOTS (default /tmp/ikd-ui-shots) and checks they were really
# drawn. fyne hangs rather than fails where GLX is missing, so the run is bounded by timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

export IKD_UI_SHOTS=${IKD_UI_SHOTS:-/tmp/ikd-ui-shots}
export LANG=${UI_LANG:-id_ID.UTF-8}
export LIBGL_ALWAYS_SOFTWARE=1 FYNE_SCALE=1 FYNE_THEME=light
# fyne writes its settings under HOME; Go's caches stay where they were.
GOCACHE=$(go env GOCACHE) GOMODCACHE=$(go env GOMODCACHE) GOPATH=$(go env GOPATH)
export GOCACHE GOMODCACHE GOPATH
HOME=$(mktemp -d)
export HOME
mkdir -p "$IKD_UI_SHOTS"

xvfb_pid=
cleanup() {
  if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null || true; fi
  rm -rf "$HOME"
}
trap cleanup EXIT

if [ -z "${DISPLAY:-}" ]; then
  export DISPLAY=:${UI_DISPLAY:-99}
  Xvfb "$DISPLAY" -screen 0 1920x1080x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb_pid=$!
  for _ in $(seq 50); do
    if xdpyinfo -display "$DISPLAY" >/dev/null 2>&1 || [ -e "/tmp/.X11-unix/X${DISPLAY#:}" ]; then break; fi
    sleep 0.1
  done
fi

timeout "${UI_TIMEOUT:-600}" go test -tags uishots -run TestShot -count=1 -v ./kiosk/ui/ | grep -v '^=== RUN'
echo "screenshots in $IKD_UI_SHOTS"
