#!/usr/bin/env bash
# Issue 10's "must not change" speeds, two cairn binaries side by side in one run: default add,
# `--threads 1`, FastCDC add (all `--only-hash`), `car verify --threads 1` and a store re-add of
# 1 GiB of SplitMix64 (seed 7) in the page cache; the binaries alternate, best of RUNS (5) each.
#   Benchmarks/add/before-after.sh BEFORE_CAIRN AFTER_CAIRN [SIZE_BYTES]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
before="$1"; after="$2"; size="${3:-1073741824}"; runs="${RUNS:-5}"
work="${TMPDIR:-/tmp}/cairn-before-after"
mkdir -p "$work"
source "$root/Benchmarks/common.sh"
file="$work/sm7_$size"
make_input "$work" "$size" "$file"

# best CMD…: the shortest wall seconds of $runs runs (output discarded; a failure stops the script).
best() {
    local b="" s e t
    for _ in $(seq "$runs"); do
        s=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "before-after.sh: failed: $*" >&2; exit 1; }; e=$(date +%s%N)
        t=$(( e - s )); if [[ -z "$b" || $t -lt $b ]]; then b=$t; fi
    done
    awk -v t="$b" 'BEGIN { printf "%.3f", t / 1e9 }'
}
row() { printf '| %-40s | %8s | %8s |\n' "$@"; }
"$after" car create --cid-version 1 "$file" -o "$work/v1.car" >/dev/null
rm -rf "$work/sb" "$work/sa"
"$before" add -Q --store "$work/sb" "$file" >/dev/null
"$after" add -Q --store "$work/sa" "$file" >/dev/null
row "case ($((size >> 20)) MiB, page cache)" "before s" "after s"
row "add --only-hash (all cores)" "$(best "$before" add -n -Q "$file")" "$(best "$after" add -n -Q "$file")"
row "add --only-hash --threads 1" "$(best "$before" add -n -Q --threads 1 "$file")" "$(best "$after" add -n -Q --threads 1 "$file")"
row "add --only-hash --chunker=fastcdc" "$(best "$before" add -n -Q --chunker=fastcdc "$file")" "$(best "$after" add -n -Q --chunker=fastcdc "$file")"
row "car verify --threads 1" "$(best "$before" car verify --threads 1 "$work/v1.car")" "$(best "$after" car verify --threads 1 "$work/v1.car")"
row "store re-add (every block present)" "$(best "$before" add -Q --store "$work/sb" "$file")" "$(best "$after" add -Q --store "$work/sa" "$file")"
rm -rf "$work/sb" "$work/sa" "$work/v1.car"
