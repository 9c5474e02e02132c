#!/usr/bin/env bash
# `cairn bench chunkers` on a 1 GiB corpus with the 6 default chunkers, against `cairn chunk`
# run six times (one chunker each) on the same file: the measurement must take at most 1.5×
# the six chunk runs (issue 14). Usage: Benchmarks/chunkers/compare.sh [SIZE] [CAIRN]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/Benchmarks/common.sh"
size="${1:-1073741824}"
cairn="${2:-}"
[[ -n "$cairn" ]] || build_cairn
work="$root/Benchmarks/out/chunkers"
mkdir -p "$work"
input="$work/input-$size"
make_input "$work" "$size" "$input"

chunkers=(size-262144 size-1048576 rabin buzhash fastcdc-16384-65536-262144 fastcdc)
seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N); echo "$end - $start" | bc; }

six=0
for chunker in "${chunkers[@]}"; do
    t=$(seconds "$cairn" chunk --stats --chunker "$chunker" "$input")
    printf 'cairn chunk %-28s %6.2f s\n' "$chunker" "$t"
    six=$(echo "$six + $t" | bc)
done
bench=$(seconds "$cairn" bench chunkers --json "$input")
printf 'cairn chunk ×6 (sequential)          %6.2f s\n' "$six"
printf 'cairn bench chunkers (6, parallel)   %6.2f s   ratio %.2f (goal ≤ 1.5)\n' "$bench" "$(echo "$bench / $six" | bc -l)"
