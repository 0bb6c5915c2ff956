#!/bin/sh
# C compiler wrapper for release builds; see cxx-baseline.sh.
IKD_BASELINE_LANG=c exec "$(dirname "$0")/cxx-baseline.sh" "$@"
