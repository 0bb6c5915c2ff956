#!/bin/sh
# C/C++ compiler wrapper for release builds: go-face compiles its C++ with -march=native
# placed after CGO_CXXFLAGS (so those cannot override it), which would let a binary built on
# an AVX-512 machine crash with SIGILL on an older kiosk CPU. This wrapper rewrites
# -march=native / -mtune=native / -mcpu=native to the stated baseline before calling the
# real compiler.
#
# Use as CXX (and cc-baseline.sh as CC):
#   CC=$PWD/build/cc-baseline.sh CXX=$PWD/build/cxx-baseline.sh go build ...
# Environment:
#   IKD_BASELINE   target -march (default x86-64-v2)
#   IKD_REAL_CXX   the real C++ compiler (default g++)
#   IKD_REAL_CC    the real C compiler, used when IKD_BASELINE_LANG=c (default gcc)
set -eu
baseline=${IKD_BASELINE:-x86-64-v2}
if [ "${IKD_BASELINE_LANG:-c++}" = c ]; then
	real=${IKD_REAL_CC:-gcc}
else
	real=${IKD_REAL_CXX:-g++}
fi
first=1
for arg do
	if [ "$first" = 1 ]; then
		set --
		first=0
	fi
	case $arg in
	-march=native | -mcpu=native) arg=-march=$baseline ;;
	-mtune=native) arg=-mtune=generic ;;
	esac
	set -- "$@" "$arg"
done
exec "$real" "$@"
