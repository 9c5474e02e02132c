#!/usr/bin/env bash
# Side-by-side single-core hashing throughput over 256 KiB buffers:
#   Cairn SHA-256        vs `openssl speed -evp sha256 -bytes 262144`   (target >= 95 %)
#   Cairn BLAKE2b-256    vs libsodium crypto_generichash from C          (target >= 90 %)
#   Cairn BLAKE3         (information only; see Benchmarks/multibuffer for the SIMD kernels)
# Every figure is the best of ROUNDS runs of SECONDS each (decimal MB/s), so all sides get the
# same treatment on a shared machine. usage: Benchmarks/hashing/compare.sh [SECONDS] [ROUNDS]
set -euo pipefail

SECONDS_PER_ROUND=${1:-1}
ROUNDS=${2:-5}
SIZE=262144
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_PACKAGE="$(cd "$HERE/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "building HashingThroughput (release)…" >&2
(cd "$BENCH_PACKAGE" && swift build -c release --product HashingThroughput >/dev/null)
PROBE="$(cd "$BENCH_PACKAGE" && swift build -c release --show-bin-path)/HashingThroughput"

echo "building sodium_bench…" >&2
cc -O2 -o "$WORK/sodium_bench" "$HERE/sodium_bench.c" $(pkg-config --cflags --libs libsodium 2>/dev/null || echo -lsodium)

# openssl speed prints "sha256  <n>k" in thousands of bytes per second for the given size.
openssl_best=0
for _ in $(seq "$ROUNDS"); do
  rate=$(openssl speed -evp sha256 -bytes "$SIZE" -seconds "$SECONDS_PER_ROUND" 2>/dev/null \
    | awk '$1 == "sha256" { v = $NF; sub(/k$/, "", v); printf "%.1f", v / 1000 }')
  openssl_best=$(awk -v a="$openssl_best" -v b="$rate" 'BEGIN { print (b > a) ? b : a }')
done

sodium=$("$WORK/sodium_bench" "$SIZE" "$SECONDS_PER_ROUND" "$ROUNDS" 32 | awk '{ print $2 }')
ours=$("$PROBE" --seconds "$SECONDS_PER_ROUND" --rounds "$ROUNDS" --size "$SIZE" sha2-256 blake2b-256 blake3)
ours_sha=$(awk '$1 == "sha2-256" { print $2 }' <<<"$ours")
ours_b2=$(awk '$1 == "blake2b-256" { print $2 }' <<<"$ours")
ours_b3=$(awk '$1 == "blake3" { print $2 }' <<<"$ours")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f %%", 100 * a / b; else print "n/a" }'; }
verdict() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { print (b > 0 && a >= t * b) ? "PASS" : "FAIL" }'; }

printf '\nsingle core, 256 KiB buffers, best of %s x %ss, decimal MB/s (%s)\n' "$ROUNDS" "$SECONDS_PER_ROUND" "$(openssl version | cut -d' ' -f1-2)"
printf '%-12s | %12s | %-28s | %12s | %8s | %-6s | %s\n' algorithm "Cairn MB/s" reference "ref MB/s" ratio target verdict
printf '%s\n' "-------------+--------------+------------------------------+--------------+----------+--------+--------"
printf '%-12s | %12s | %-28s | %12s | %8s | %-6s | %s\n' sha2-256 "$ours_sha" "openssl speed -evp sha256" "$openssl_best" "$(ratio "$ours_sha" "$openssl_best")" ">=95%" "$(verdict "$ours_sha" "$openssl_best" 0.95)"
printf '%-12s | %12s | %-28s | %12s | %8s | %-6s | %s\n' blake2b-256 "$ours_b2" "libsodium generichash (C)" "$sodium" "$(ratio "$ours_b2" "$sodium")" ">=90%" "$(verdict "$ours_b2" "$sodium" 0.90)"
printf '%-12s | %12s | %-28s | %12s | %8s | %-6s | %s\n' blake3 "$ours_b3" "(information only)" "-" "-" "-" "-"
