#!/usr/bin/env bash
# Every usable photo of a labelled set (one folder per person) as the reference for every other,
# through `ikdctl face verify`, the way the outside check uses it: prints the AUC of the
# `score` column and the band counts of genuine and impostor pairs. A probe that fails the
# quality gate gives no pair.
#
#   build/face-verify-pairs.sh IKDCTL MODEL_DIR PHOTO_DIR
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 IKDCTL MODEL_DIR PHOTO_DIR (PHOTO_DIR/<person>/<photo>.jpg)" >&2
  exit 2
fi
ikdctl=$1 models=$2 dir=$3
mapfile -t photos < <(find "$dir" -mindepth 2 -maxdepth 2 -name '*.jpg' | sort)
for ref in "${photos[@]}"; do
  others=()
  for p in "${photos[@]}"; do [ "$p" != "$ref" ] && others+=("$p"); done
  # Exit status 1 means some probes failed the gate; their lines say so and are skipped.
  "$ikdctl" face verify --models "$models" --reference "$ref" "${others[@]}" 2>/dev/null |
    awk -F'\t' -v ref="$ref" '$2 ~ /^distance/ {
      split($3, s, " "); split($4, b, " ")
      r = ref; sub(/\/[^\/]*$/, "", r); p = $1; sub(/\/[^\/]*$/, "", p)
      print (r == p ? "genuine" : "impostor"), s[2], b[2] }' || true
done | awk '
  { kind[NR] = $1; score[NR] = $2; n[$1]++; band[$1 " " $3]++ }
  END {
    # score is distance-like: a genuine pair should score below an impostor pair.
    for (i = 1; i <= NR; i++) if (kind[i] == "genuine")
      for (j = 1; j <= NR; j++) if (kind[j] == "impostor")
        auc += (score[i] < score[j]) + 0.5 * (score[i] == score[j])
    if (n["genuine"] == 0 || n["impostor"] == 0) { print "no genuine or no impostor pairs"; exit 1 }
    printf "pairs: genuine %d, impostor %d; AUC of score %.4f\n", n["genuine"], n["impostor"], auc / (n["genuine"] * n["impostor"])
    for (k in n) printf "  %s: match %d, uncertain %d, no match %d\n", k, band[k " match"], band[k " uncertain"], band[k " no_match"]
  }'
