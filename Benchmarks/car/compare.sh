#!/usr/bin/env bash
# CAR throughput: `cairn car create` (import + CAR writing) and `cairn car verify` (one core
# and all cores) on a CAR of a SplitMix64 file (default 1 GiB, 256 KiB blocks).
# Usage: Benchmarks/car/compare.sh [SIZE_BYTES]   (builds release first; prints one table)
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE=${1:-1073741824}
WORK=${TMPDIR:-/tmp}/cairn-car-bench
mkdir -p "$WORK"
swift build -c release --product cairn >/dev/null
CAIRN=.build/release/cairn
INPUT="$WORK/sm7_$SIZE"
[ -f "$INPUT" ] || python3 scripts/splitmix.py 7 "$SIZE" "$INPUT"

# Best of 3 wall-clock seconds of a command (page cache warm after the first run).
best() {
  local best=""
  for _ in 1 2 3; do
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
    local dt; dt=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || (( $(echo "$dt < $best" | bc -l) )); then best=$dt; fi
  done
  echo "$best"
}
rate() { echo "scale=2; $SIZE / $2 / 1073741824" | bc -l; }

cat "$INPUT" >/dev/null
T_ONLYHASH=$(best $CAIRN add -n -Q --cid-version 1 "$INPUT")
T_CREATE1=$(best $CAIRN car create --cid-version 1 --threads 1 "$INPUT" -o "$WORK/v1.car")
T_CREATE=$(best $CAIRN car create --cid-version 1 "$INPUT" -o "$WORK/v1.car")
T_CREATE2=$(best $CAIRN car create --cid-version 1 --v2 "$INPUT" -o "$WORK/v2.car")
T_VERIFY1=$(best $CAIRN car verify --threads 1 "$WORK/v1.car")
T_VERIFY=$(best $CAIRN car verify "$WORK/v1.car")
T_VERIFY2=$(best $CAIRN car verify --threads 1 --complete "$WORK/v2.car")

printf '| %-52s | %8s | %9s |\n' "operation ($((SIZE >> 20)) MiB SplitMix64, 256 KiB blocks)" "seconds" "GiB/s"
printf '|%s|%s|%s|\n' "------------------------------------------------------" "----------" "-----------"
row() { printf '| %-52s | %8.3f | %9s |\n' "$1" "$2" "$(rate x "$2")"; }
row "add -n (CIDv1, all cores; no output, reference)" "$T_ONLYHASH"
row "car create CARv1 (1 hashing thread)" "$T_CREATE1"
row "car create CARv1 (all cores)" "$T_CREATE"
row "car create CARv2 + MultihashIndexSorted (all cores)" "$T_CREATE2"
row "car verify CARv1 (1 thread)" "$T_VERIFY1"
row "car verify CARv1 (all cores)" "$T_VERIFY"
row "car verify CARv2 --complete + index (1 thread)" "$T_VERIFY2"
