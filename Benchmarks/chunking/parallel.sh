#!/usr/bin/env bash
# Whole processes, best of RUNS (default 5) runs each, on the same SplitMix64 file (seed 7) in the page cache:
#   1. `cairn chunk --chunker fastcdc-65536-262144-1048576 --threads 1 FILE` against pyfastcdc
#      0.3.1 `FastCDC(avg_size=262144, min_size=65536, max_size=1048576, normalized_chunking=1)
#      .cut_file(FILE)` (a whole `python` process, same bounds, same cuts) — issue 16's target:
#      cairn ≥ 1.05× pyfastcdc on one core;
#   2. the same `cairn chunk` with `--threads 2` against its own one-thread time — target ≥ 1.85×;
#   3. the parallel chunker's own figures (`--parallel-stats`) for 2 and 16 threads: segments,
#      resynchronisation distance measured on this data, bytes chunked twice, and the speed-up
#      they project for a 16-core host (16 × S / (S + d), S = the segment length: the file over
#      16 threads, at most 512 MiB, the longest range per thread of `cairn chunk` for this spec).
# Both chunk every byte of the file; both print the chunk count, which must agree.
#
#   Benchmarks/chunking/parallel.sh [SIZE_BYTES]     (default 1 GiB; CAIRN_BIN=PATH skips the build)
#
# Called at the end of Benchmarks/chunking/compare.sh too. Needs pyfastcdc 0.3.1 in
# Benchmarks/.venv-chunking (compare.sh creates it; this script does too when it is missing).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
size="${1:-1073741824}"
venv="$root/Benchmarks/.venv-chunking"
work="${TMPDIR:-/tmp}/cairn-chunk-parallel"
mkdir -p "$work"
file="$work/sm7_$size"
spec="fastcdc-65536-262144-1048576"

source "$root/Benchmarks/common.sh"
build_cairn
make_input "$work" "$size" "$file"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import pyfastcdc' 2>/dev/null; then
    echo "creating $venv with pyfastcdc 0.3.1" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q pyfastcdc==0.3.1
fi

# timed CMD…: runs RUNS times (default 5), sets `wall` to the best wall time in seconds (from
# nanosecond clock readings) and `count` (the last line of stdout, a chunk count).
runs="${RUNS:-5}"
timed() {
    local best="" i t0 t1 t
    for ((i = 0; i < runs; i++)); do
        t0=$(date +%s%N)
        "$@" >"$work/out" 2>"$work/err"
        t1=$(date +%s%N)
        t=$((t1 - t0))
        if [[ -z "$best" || $t -lt $best ]]; then best=$t; fi
    done
    wall=$(awk -v n="$best" 'BEGIN { printf "%.3f", n / 1e9 }')
    count=$(grep -E '^count ' "$work/out" | cut -d' ' -f2 || true)
    [[ -n "$count" ]] || count=$(tail -1 "$work/out")
}

timed "$cairn" chunk --chunker "$spec" --threads 1 --stats "$file"; t1=$wall; c1=$count
timed "$venv/bin/python" -c "
import sys
from pyfastcdc import FastCDC
c = FastCDC(avg_size=262144, min_size=65536, max_size=1048576, normalized_chunking=1)
print(sum(1 for _ in c.cut_file(sys.argv[1])))" "$file"; tp=$wall; cp=$count
timed "$cairn" chunk --chunker "$spec" --threads 2 --stats "$file"; t2=$wall; c2=$count

gibs() { awk -v b="$size" -v s="$1" 'BEGIN { printf "%.2f", b / 1073741824 / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
echo
echo "cairn chunk vs pyfastcdc cut_file, $spec, $((size >> 20)) MiB, whole processes, best of $runs runs each"
printf '| %-44s | %8s | %7s | %8s | %-28s |\n' "case" "wall s" "GiB/s" "chunks" "ratio"
printf '|%s|%s|%s|%s|%s|\n' "----------------------------------------------" "----------" "---------" "----------" "------------------------------"
printf '| %-44s | %8s | %7s | %8s | %-28s |\n' "pyfastcdc 0.3.1 cut_file (one core)" "$tp" "$(gibs "$tp")" "$cp" ""
printf '| %-44s | %8s | %7s | %8s | %-28s |\n' "cairn chunk --threads 1" "$t1" "$(gibs "$t1")" "$c1" "$(ratio "$tp" "$t1")x pyfastcdc (target >= 1.05)"
printf '| %-44s | %8s | %7s | %8s | %-28s |\n' "cairn chunk --threads 2" "$t2" "$(gibs "$t2")" "$c2" "$(ratio "$t1" "$t2")x one thread (target >= 1.85)"
[[ "$c1" == "$cp" && "$c1" == "$c2" ]] || echo "WARNING: chunk counts differ ($c1, $cp, $c2)"

echo
echo "the method's own figures on this file (cairn chunk --parallel-stats; 16 threads are time-shared here, the cuts are the same):"
printf '| %-7s | %8s | %14s | %22s | %14s | %12s | %18s |\n' "threads" "segments" "resynchronised" "mean distance (bytes)" "bytes repeated" "repeated %" "cut serially (B)"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' "---------" "----------" "----------------" "------------------------" "----------------" "--------------" "--------------------"
for threads in 2 16; do
    "$cairn" chunk --chunker "$spec" --threads "$threads" --stats --parallel-stats "$file" >/dev/null 2>"$work/stats"
    read -r _ _ seg _ res _ dist _ rep _ pct _ ser _ _ <"$work/stats"
    printf '| %-7s | %8s | %14s | %22s | %14s | %12s | %18s |\n' "$threads" "$seg" "$res" "$dist" "$rep" "$pct" "$ser"
    [[ "$threads" == 16 ]] && dist16=$dist
done
awk -v d="$dist16" -v b="$size" 'BEGIN { s = b / 16; if (s > 512 * 1048576) s = 512 * 1048576; printf "projection for 16 cores (segments of %.0f MiB, distance %.0f B): %.2fx one core, %.3f %% of the work repeated (memory bandwidth permitting)\n", s / 1048576, d, 16 * s / (s + d), d / s * 100 }'
