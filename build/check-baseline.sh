#!/bin/sh
# check-baseline.sh BINARY...: fail if a binary contains machine instructions beyond the
# x86-64-v2 baseline (SSE4.2/POPCNT) that the kiosk CPUs are promised.
#
# Flagged: every VEX/EVEX instruction (AVX, AVX2, FMA, F16C, AVX-512: mnemonics starting
# with "v"), AVX-512 mask instructions (k*), BMI1/BMI2/ABM/ADX/MOVBE, AES-NI, PCLMULQDQ and
# SHA. Go's standard library and golang.org/x/crypto contain such code behind run-time CPU
# checks (internal/cpu); functions of those packages are allowed and counted separately.
# Everything else (our Go code, and all C/C++ code compiled by cgo, such as go-face and the
# dlib templates it instantiates) must stay within the baseline.
#
# Shared libraries (libdlib, ATLAS BLAS, libjpeg, libstdc++) are not in the binary: they are
# the kiosk's own Debian packages, built by Debian for its baseline.
set -eu
if [ $# -eq 0 ]; then
	echo "usage: $0 BINARY..." >&2
	exit 2
fi
command -v objdump >/dev/null || { echo "check-baseline: objdump not found (install binutils)" >&2; exit 2; }
status=0
for bin do
	[ -f "$bin" ] || { echo "check-baseline: $bin: no such file" >&2; exit 2; }
	report=$(objdump -d --no-show-raw-insn "$bin" | awk -v bin="$bin" '
		/^[0-9a-f]+ <.*>:$/ { fn = $2; sub(/^</, "", fn); sub(/>:$/, "", fn); next }
		/^ +[0-9a-f]+:\t/ {
			split($0, part, "\t"); insn = part[2]; sub(/^ +/, "", insn)
			n = split(insn, w, " "); m = w[1]
			if (m ~ /^(rep|repz|repnz|lock|notrack|bnd|data16|addr32|cs|ds|es|ss|fs|gs)$/ && n > 1) m = w[2]
			bad = 0
			if (m ~ /^v/ && m !~ /^ver[rw]$/) bad = 1                                  # AVX, AVX2, FMA, AVX-512
			else if (m ~ /^k(mov|and|or|xor|not|add|shift|test|unpck|xnor)/) bad = 1    # AVX-512 masks
			else if (m ~ /^(andn|bextr|blsi|blsmsk|blsr|bzhi|pdep|pext|mulx|rorx|sarx|shlx|shrx|lzcnt|tzcnt|movbe|adcx|adox)$/) bad = 1
			else if (m ~ /^(aes|pclmul|sha1|sha256)/) bad = 1
			else if (insn ~ /%[yz]mm[0-9]/) bad = 1
			if (!bad) next
			if (fn ~ /^(runtime\.|internal\/|crypto\/|vendor\/golang\.org\/x\/crypto\/|golang\.org\/x\/crypto\/|math\/big\.|math\.arch|hash\/crc32\.)/ ||
			    fn ~ /^(aeshashbody|cmpbody|countbody|indexbody|indexbytebody|memeqbody|expandAVX512_[0-9]+)$/) { allowed[fn]++; next }  # Go assembly behind CPU checks
			count[fn]++
			if (!(fn in sample)) sample[fn] = insn
		}
		END {
			nf = 0; ni = 0; na = 0; nfa = 0
			for (f in count) { nf++; ni += count[f] }
			for (f in allowed) { nfa++; na += allowed[f] }
			printf "%s: %d instructions beyond the baseline in %d functions (plus %d in %d run-time-dispatched Go library functions, allowed)\n", bin, ni, nf, na, nfa
			shown = 0
			for (f in count) { if (shown++ < 25) printf "  %s: %d, e.g. %s\n", (length(f) > 100 ? substr(f, 1, 100) "..." : f), count[f], sample[f] }
			if (nf > 25) printf "  ... and %d more functions\n", nf - 25
			exit nf > 0
		}') || status=1
	printf '%s\n' "$report"
done
if [ "$status" -ne 0 ]; then
	echo "check-baseline: FAILED: rebuild with build/cxx-baseline.sh as CXX and build/cc-baseline.sh as CC (make release)" >&2
fi
exit "$status"
