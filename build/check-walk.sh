#!/usr/bin/env bash
# The real kiosk window walked through as an officer would, under a virtual 1366×768 display
# driven with xdotool:
#   1. `ikd-kiosk --demo`: login, the citizen registers (demo panel), F2 activation, approve,
#      print, F5 sync, the citizen confirms the e-mailed code, F3 deactivation lookup, lock;
#   2. `ikd-kiosk --data DIR --camera /dev/video9` (no such device, no models, not enrolled): a
#      camera=missing log line within 5 s of start and before anyone logs in, then unlock,
#      login, F2 with the hand-scanner field first and focused, a token typed into it.
# Every step waits (bounded) for the window's own state: its log lines (screen=, camera=,
# sync=, demo=) and its --status-file (screen, buttons with their places, fields, texts).
# Buttons are found by their label, read from assets/i18n/id.json by key. Screenshots of every
# step are kept in $IKD_WALK_SHOTS (default /tmp/ikd-walk), printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

shots=${IKD_WALK_SHOTS:-/tmp/ikd-walk}
export LANG=id_ID.UTF-8 LIBGL_ALWAYS_SOFTWARE=1 FYNE_SCALE=1 FYNE_THEME=light
GOCACHE=$(go env GOCACHE) GOMODCACHE=$(go env GOMODCACHE) GOPATH=$(go env GOPATH)
export GOCACHE GOMODCACHE GOPATH
work=$(mktemp -d)
# fyne writes its settings under HOME.
export HOME=$work/home
mkdir -p "$HOME"
mkdir -p "$shots"
rm -f "$shots"/demo-*.png "$shots"/nocamera-*.png

xvfb_pid= kiosk_pid=
cleanup() {
  if [ -n "$kiosk_pid" ]; then kill "$kiosk_pid" 2>/dev/null || true; wait "$kiosk_pid" 2>/dev/null || true; fi
  if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/bin/" ./cmd/ikd-kiosk ./cmd/ikdctl

export DISPLAY=:${WALK_DISPLAY:-98}
Xvfb "$DISPLAY" -screen 0 1366x768x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do
  if xdpyinfo -display "$DISPLAY" >/dev/null 2>&1; then break; fi
  sleep 0.1
done

walk= log= status= wid= step=0

fail() {
  echo "check-walk ($walk): FAIL: $*" >&2
  shot "failed" || true
  if [ -f "$status" ]; then echo "--- window state:" >&2; cat "$status" >&2; fi
  if [ -f "$log" ]; then echo "--- last log lines:" >&2; tail -20 "$log" >&2; fi
  echo "screenshots in $shots" >&2
  exit 1
}

# t KEY is the Indonesian text of an i18n key, up to its first format verb.
t() {
  local v
  v=$(sed -n "s/^  \"$1\": \"\(.*\)\",\{0,1\}$/\1/p" assets/i18n/id.json)
  [ -n "$v" ] || fail "no i18n key $1"
  printf '%s' "${v%%%*}"
}

# wait_for WHAT FILE PATTERN [SECONDS]: poll FILE until a line matches the extended regex.
wait_for() {
  local what=$1 file=$2 pattern=$3 secs=${4:-20}
  local deadline=$((SECONDS + secs))
  until [ -f "$file" ] && grep -Eq -- "$pattern" "$file"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$what: no line matching '$pattern' in $(basename "$file") after ${secs}s"
    sleep 0.2
  done
}
wait_screen() { wait_for "screen $1" "$status" "^screen $1\$" "${2:-20}"; }
wait_log() { wait_for "$1" "$log" "$2" "${3:-20}"; }
wait_text() { wait_for "$1" "$status" "^text .*$2" "${3:-20}"; }

# button TEXT prints the centre of the enabled button whose label starts with TEXT.
button() {
  awk -v want="$1" '$1 == "button" && $6 == "enabled" {
      label = $0; sub(/^button [0-9-]+ [0-9-]+ [0-9]+ [0-9]+ enabled /, "", label)
      if (index(label, want) == 1) { print int($2 + $4 / 2), int($3 + $5 / 2); exit }
    }' "$status"
}

# wait_button TEXT [SECONDS] waits for an enabled button labelled TEXT and prints its centre.
wait_button() {
  local deadline=$((SECONDS + ${2:-20})) at
  until at=$(button "$1") && [ -n "$at" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "no enabled button '$1' on the window after ${2:-20}s"
    sleep 0.2
  done
  echo "$at"
}

# click TEXT [SECONDS] waits for the button labelled TEXT and clicks its centre.
click() {
  local at
  at=$(wait_button "$@")
  # shellcheck disable=SC2086 # at is "X Y"
  xdotool mousemove --window "$wid" $at click 1
}

# click_entry clicks the first field on the window.
click_entry() {
  local at
  at=$(awk '$1 == "entry" { print int($2 + $4 / 2), int($3 + $5 / 2); exit }' "$status")
  [ -n "$at" ] || fail "no field on the window"
  # shellcheck disable=SC2086
  xdotool mousemove --window "$wid" $at click 1
}

# click_check clicks every unchecked check box (the officer's eye check).
click_checks() {
  awk '$1 == "check" && $6 == "unchecked" { print int($2 + $4 / 2), int($3 + $5 / 2) }' "$status" |
    while read -r x y; do xdotool mousemove --window "$wid" "$x" "$y" click 1; done
}

key() { xdotool key "$@"; }
typein() { xdotool type --delay 40 "$1"; }

shot() {
  step=$((step + 1))
  local f
  f=$(printf '%s/%s-%02d-%s.png' "$shots" "$walk" "$step" "$1")
  sleep 0.5 # the frame after the state change is drawn
  import -window root "$f"
}

# launch WALK ARGS...: the kiosk with its log and status file.
launch() {
  walk=$1
  shift
  step=0
  log=$work/$walk.log status=$work/$walk.status
  "$work/bin/ikd-kiosk" --status-file "$status" "$@" >"$work/$walk.out" 2>"$log" &
  kiosk_pid=$!
}

# start WALK ARGS...: launch, and wait for the window.
start() {
  launch "$@"
  wait_window
}

# wait_window waits for the kiosk's first screen, then finds its window (the start-up's GL
# probe opens and closes a window of the same name before).
wait_window() {
  local deadline=$((SECONDS + 60))
  until [ -s "$status" ]; do
    kill -0 "$kiosk_pid" 2>/dev/null || fail "ikd-kiosk exited: $(tail -5 "$log")"
    [ "$SECONDS" -lt "$deadline" ] || fail "no kiosk window after 60s"
    sleep 0.2
  done
  until wid=$(xdotool search --name '^IKD$' 2>/dev/null | head -1) && [ -n "$wid" ]; do
    kill -0 "$kiosk_pid" 2>/dev/null || fail "ikd-kiosk exited: $(tail -5 "$log")"
    [ "$SECONDS" -lt "$deadline" ] || fail "no kiosk window after 60s"
    sleep 0.2
  done
}

stop() {
  kill "$kiosk_pid"
  wait "$kiosk_pid" 2>/dev/null || true
  kiosk_pid=
  wid=
}

# The window must fit the screen: nothing the officer needs is drawn past 1366×768.
fits() {
  local geo
  geo=$(xdotool getwindowgeometry "$wid" | sed -n 's/.*Geometry: //p')
  [ "$geo" = "1366x768" ] || fail "$1: the window grew to $geo, past the 1366x768 screen"
}

# ---- 1. The demo, as the README tells an officer to try it.
start demo --demo --data "$work/demo" --lang id
wait_screen login 60
shot login
typein 246810
key Return
wait_screen home
fits home
shot home

click "$(t ui.home.demo)"
wait_screen demo
click "$(t ui.demo.register)"
wait_log "citizen registered" 'demo=registered'
wait_text "registered" "$(t ui.demo.registered)"
shot demo-registered

key F2
wait_screen activation
# The QR read, the resident found: the review's Approve is there (disabled until an eye
# check asked for is ticked).
deadline=$((SECONDS + 60))
until awk -v want="$(t ui.review.approve)" '$1 == "button" && index($0, " " want) > 0 { found = 1 } END { exit !found }' "$status"; do
  [ "$SECONDS" -lt "$deadline" ] || fail "no '$(t ui.review.approve)' button on the window after 60s"
  sleep 0.2
done
shot review
# The officer ticks the eye check where one is asked for and approves; where the face step
# is still running, or the review asks for a supervisor's PIN (a PIN pad appears: the demo's
# supervisor gives it), the officer tries again.
approve=$(t ui.review.approve)
deadline=$((SECONDS + 90))
until grep -q '^screen receipt$' "$status"; do
  [ "$SECONDS" -lt "$deadline" ] || fail "no receipt 90s after the review"
  if [ -n "$(button 9)" ] && [ -n "$(button 0)" ]; then
    shot supervisor-pin
    typein 246810
    key Return
    sleep 1
  else
    click_checks
    sleep 0.3
    if [ -n "$(button "$approve")" ]; then
      click "$approve"
      sleep 1.5
    fi
  fi
  sleep 0.3
done
fits receipt
shot receipt
print=$(t ui.receipt.print)
if [ -n "$(button "$print")" ]; then
  before=$(grep -v '^records' "$status")
  click "$print"
  deadline=$((SECONDS + 20))
  while [ "$before" = "$(grep -v '^records' "$status")" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "pressing '$print' changed nothing on the receipt screen"
    sleep 0.2
  done
  shot printed
fi
click "$(t ui.receipt.done)"
wait_screen home

key F5
wait_screen sync
wait_log "manual sync" 'sync=done'
wait_for "the activation accepted by the registry" "$status" '^records pending=0 sent=0 acknowledged=[1-9]'
fits sync
shot synced

key Escape
wait_screen home
click "$(t ui.home.demo)"
wait_screen demo
wait_text "the e-mailed code in the demo mailbox" "Kode aktivasi IKD Anda: [0-9]{6}" 60
click "$(t ui.demo.confirm)"
wait_log "code confirmed" 'demo=code_confirmed status=activated'
shot code-confirmed

key F3
wait_screen deactivation
wait_for "the NIK field focused" "$status" '^entry [0-9 ]+ focused '
shot deactivation
typein 3201014101900001
key Return
wait_text "the resident found" "Siti Aminah" 30
fits deactivation
shot deactivation-found
click "$(t ui.visit.cancel)"
wait_screen home

# Settings with the camera test: Simpan and Kembali stay on the 1366×768 screen.
click "$(t ui.home.settings)"
wait_screen settings
click "$(t ui.settings.test_camera)"
sleep 1
for b in "$(t ui.settings.save)" "$(t ui.common.back)"; do
  wait_button "$b" >/dev/null
  bottom=$(awk -v want="$b" '$1 == "button" && index($0, " " want) { print $3 + $5; exit }' "$status")
  [ "$bottom" -le 768 ] || fail "'$b' reaches y=$bottom, below the 768 px screen"
done
fits settings
shot settings-camera-test
click "$(t ui.common.back)"
wait_screen home

click "$(t ui.header.lock)"
wait_screen login
shot locked
stop

# ---- 2. A kiosk whose camera is not there: no models, never enrolled.
(umask 077; printf 'walk-secret-%s\n' "$RANDOM$RANDOM" >"$work/secret")
(umask 077; printf '135790\n' >"$work/pin")
"$work/bin/ikdctl" init --data "$work/kiosk" --secret-file "$work/secret" --supervisor "Sari Wulandari" \
  --pin-file "$work/pin" --kdf-time 2 --kdf-memory 19456 >/dev/null
started=$SECONDS
launch nocamera --data "$work/kiosk" --camera /dev/video9 --models "" --lang id
# Within 5 s of start, before anyone logged in (the kiosk is still locked).
wait_log "camera missing within 5 s of start" 'camera=missing.*device=/dev/video9' 5
[ $((SECONDS - started)) -le 5 ] || fail "camera=missing came $((SECONDS - started))s after start"
if grep -q 'screen=home' "$log"; then fail "camera=missing only after a login"; fi
wait_window
wait_screen unlock 60
shot unlock
click_entry
typein "$(cat "$work/secret")"
key Return
wait_screen login 60
typein 135790
key Return
wait_screen home
wait_for "home says the camera is missing" "$status" '^camera missing$'
fits home
shot home-nocamera

key F2
wait_screen activation
# The hand scanner's field is the first field and has the keyboard.
first=$(grep -m1 '^entry ' "$status" || true)
case $first in
  *" focused "*) ;;
  *) fail "the activation screen's first field is not focused: '$first'" ;;
esac
shot activation-nocamera
before=$(grep '^text ' "$status")
typein "IKD1:bukan-token-yang-sah"
wait_for "the scanned token in the field" "$status" '^entry [0-9 ]+ focused IKD1:bukan-token-yang-sah'
key Return
deadline=$((SECONDS + 20))
while [ "$before" = "$(grep '^text ' "$status")" ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "a scanned token got no answer on the activation screen"
  sleep 0.2
done
shot token-refused
stop

echo "check-walk: both walks passed; screenshots in $shots"
