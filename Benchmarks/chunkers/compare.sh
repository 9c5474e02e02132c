#!/usr/bin/env bash
# What it measures (issue 14, "Benchmarks"): the wall time of ONE `cairn bench chunkers --json`
# run over one file with six chunkers (chunkers in parallel, both cores), against the peer it
# must keep up with: `cairn chunk --stats` run six times in a row on the same file, one chunker
# each (chunking only: the file is mapped and cut on every core; a fixed-size chunker never
# reads it). The goal is ratio = bench / (sum of the six chunk runs) ≤ 1.5, on wall seconds; the
# CPU seconds (user + system, from /usr/bin/time) are printed beside them, steadier when others
# share the machine. The input is SIZE bytes of SplitMix64 output (seed 7, incompressible, no
# repeats), read once beforehand so that every run starts from the page cache. Each time is the
# best of RUNS runs.
#
# Usage: Benchmarks/chunkers/compare.sh [SIZE] [CAIRN]
#   SIZE  bytes of input (also $SIZE; default 1073741824 = 1 GiB)
#   CAIRN a built cairn binary (also $CAIRN; default: build the release product)
#   $RUNS runs per case, the best kept (default 1); $CHUNKERS overrides the six chunkers
#   (comma-separated).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/Benchmarks/common.sh"
size="${1:-${SIZE:-1073741824}}"
cairn="${2:-${CAIRN:-}}"
runs="${RUNS:-1}"
[[ -n "$cairn" ]] || build_cairn
work="$root/Benchmarks/out/chunkers"
mkdir -p "$work"
input="$work/input-$size"
make_input "$work" "$size" "$input"

IFS=',' read -r -a chunkers <<< "${CHUNKERS:-size-262144,size-1048576,rabin,buzhash,fastcdc-16384-65536-262144,fastcdc}"

# best_of COMMAND…: the shortest wall time and the least CPU time (user + system, all
# threads) of $runs runs, in seconds: "WALL CPU". CPU time is the steadier figure on a
# machine others share; the goal is on wall time.
best_of() {
    local best="" cpu="" wall used
    for ((i = 0; i < runs; i++)); do
        /usr/bin/time -o "$work/time" -f "%e %U %S" "$@" >/dev/null
        read -r wall used < <(awk 'END { print $1, $2 + $3 }' "$work/time")
        if [[ -z "$best" ]] || (( $(echo "$wall < $best" | bc -l) )); then best=$wall; fi
        if [[ -z "$cpu" ]] || (( $(echo "$used < $cpu" | bc -l) )); then cpu=$used; fi
    done
    echo "$best $cpu"
}

printf '%s\n' "cairn bench chunkers vs cairn chunk ×${#chunkers[@]}: $(numfmt --to=iec "$size")B SplitMix64 input, $(nproc) cores, best of $runs"
printf '%-60s %10s %10s\n' "case" "seconds" "cpu-s"
six=0
sixcpu=0
for chunker in "${chunkers[@]}"; do
    read -r t c <<< "$(best_of "$cairn" chunk --stats --chunker "$chunker" "$input")"
    printf '%-60s %10.2f %10.2f\n' "cairn chunk --stats --chunker $chunker" "$t" "$c"
    six=$(echo "$six + $t" | bc -l)
    sixcpu=$(echo "$sixcpu + $c" | bc -l)
done
list=$(IFS=','; echo "${chunkers[*]}")
read -r bench benchcpu <<< "$(best_of "$cairn" bench chunkers --json --chunkers "$list" "$input")"
printf '%-60s %10.2f %10.2f\n' "sum of the ${#chunkers[@]} chunk runs (sequential)" "$six" "$sixcpu"
printf '%-60s %10.2f %10.2f\n' "cairn bench chunkers (${#chunkers[@]} chunkers, parallel)" "$bench" "$benchcpu"
printf '%-60s %10.2f %10.2f   (goal ≤ 1.5 on seconds)\n' "ratio bench / chunk runs" "$(echo "$bench / $six" | bc -l)" \
    "$(echo "$benchcpu / $sixcpu" | bc -l)"
