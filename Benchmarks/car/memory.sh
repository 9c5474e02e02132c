#!/usr/bin/env bash
# Peak RSS (GNU time, %M) of `cairn car verify`, `car verify --complete` and `car import` on the
# pathological CARs of scripts/pathological-car.py (issue 15, item 14): BLOCKS tiny blocks, and
# a header of ROOTS roots. Target: each at most 64 MiB, whatever BLOCKS and ROOTS.
# Usage: Benchmarks/car/memory.sh [BLOCKS [ROOTS]]   (default 1000000 900000: 46 MB and 31 MiB)
# CAIRN=path skips the release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
BLOCKS=${1:-1000000}
ROOTS=${2:-900000}
WORK=${TMPDIR:-/tmp}/cairn-car-memory
mkdir -p "$WORK"
if [ -z "${CAIRN:-}" ]; then
  swift build -c release --product cairn >/dev/null
  CAIRN=.build/release/cairn
fi
[ -x /usr/bin/time ] || { echo "memory.sh: needs GNU time (/usr/bin/time, Debian package time)" >&2; exit 1; }

# Peak RSS in MiB of one command (its output discarded); fails the script if the command fails.
peak() {
  local report="$WORK/rss"
  if ! /usr/bin/time -f %M -o "$report" "$@" >/dev/null 2>"$WORK/stderr"; then
    echo "memory.sh: failed: $* ($(tail -1 "$WORK/stderr"))" >&2
    exit 1
  fi
  echo "scale=1; $(tail -1 "$report") / 1024" | bc -l
}

printf '| %-34s | %9s | %12s | %12s | %12s |\n' "CAR" "file MiB" "verify MiB" "complete MiB" "import MiB"
printf '|%s|%s|%s|%s|%s|\n' "------------------------------------" "-----------" "--------------" "--------------" "--------------"
for kind in tiny roots; do
  n=$BLOCKS; label="$BLOCKS blocks of 16 bytes"
  if [ "$kind" = roots ]; then n=$ROOTS; label="$ROOTS roots in the header"; fi
  car="$WORK/$kind-$n.car"
  [ -f "$car" ] || python3 scripts/pathological-car.py "$kind" "$n" "$car"
  size=$(echo "scale=1; $(stat -c %s "$car") / 1048576" | bc -l)
  verify=$(peak "$CAIRN" car verify "$car")
  complete=$(peak "$CAIRN" car verify --complete "$car")
  rm -rf "$WORK/store"
  import=$(peak "$CAIRN" car import --store "$WORK/store" "$car")
  rm -rf "$WORK/store"
  printf '| %-34s | %9s | %12s | %12s | %12s |\n' "$label" "$size" "$verify" "$complete" "$import"
done
