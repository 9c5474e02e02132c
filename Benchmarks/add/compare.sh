#!/usr/bin/env bash
# cairn add throughput on a 1 GiB SplitMix64 file in the page cache, with OpenSSL as yardstick.
# Usage: Benchmarks/add/compare.sh [SIZE_BYTES]   (run from anywhere; builds release first)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
size="${1:-1073741824}"
work="${TMPDIR:-/tmp}/cairn-add-bench"
mkdir -p "$work"
file="$work/sm7_$size"

echo "building release…" >&2
(cd "$root" && swift build -c release --product cairn >/dev/null)
cairn="$root/.build/release/cairn"

if [[ ! -f "$file" ]] || [[ "$(stat -c %s "$file")" != "$size" ]]; then
    cc -O2 -o "$work/splitmix" "$root/Benchmarks/add/splitmix.c"
    "$work/splitmix" 7 "$size" "$file"
fi
cat "$file" >/dev/null   # into the page cache

gib() { awk -v b="$size" -v s="$1" 'BEGIN { printf "%.2f", b / 1073741824 / s }'; }

printf '%-34s %9s %9s %9s %10s %s\n' "case" "wall s" "GiB/s" "cpu s" "peak RSS" "root"
run() {
    local label="$1"; shift
    local best="" line=""
    for _ in 1 2 3; do
        local out
        out=$( { /usr/bin/time -f "%e %U %S %M" "$cairn" add --only-hash -Q "$@" "$file" >"$work/root"; } 2>&1 )
        local wall=${out%% *}
        if [[ -z "$best" ]] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$wall; line=$out; fi
    done
    read -r wall user sys rss <<<"$line"
    printf '%-34s %9s %9s %9.2f %8d MB %s\n' "$label" "$wall" "$(gib "$wall")" "$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')" "$((rss / 1024))" "$(cat "$work/root")"
}
run "default (all cores)"
run "--threads 1" --threads 1
run "--profile unixfs-v1-2025" --profile unixfs-v1-2025
run "--chunker=fastcdc" --chunker=fastcdc
run "--chunker=buzhash" --chunker=buzhash
run "--chunker=rabin" --chunker=rabin

echo
echo "yardstick: openssl speed -evp sha256 -bytes 262144 -multi 2"
openssl speed -evp sha256 -bytes 262144 -multi 2 -seconds 2 2>/dev/null | tail -1 |
    awk '{ kb = $NF; sub(/k$/, "", kb); printf "  %.2f GiB/s (2 processes, one-buffer SHA-256)\n", kb * 1000 / 1073741824 }'
echo "(the box is shared: wall time includes other users' load; cpu s is this process's own time)"
