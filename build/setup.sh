#!/usr/bin/env bash
# Installs what the IKD kiosk needs on a fresh Debian 12 machine: system packages (cgo, dlib for
# go-face, QR peers, Xvfb), Go modules, and the dlib model files.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# One list for set-up and CI: build/packages.txt (see DESIGN.md §3).
mapfile -t PACKAGES < build/packages.txt
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${missing[@]}"
fi

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then export PATH=/usr/local/go/bin:$PATH; else
    echo "setup: Go 1.26 or newer is required (https://go.dev/dl/); install it to /usr/local/go" >&2
    exit 1
  fi
fi
go mod download

build/models.sh
