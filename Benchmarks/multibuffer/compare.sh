#!/usr/bin/env bash
# Multi-buffer hashing, side by side in one run (the hashing-kernels issue's table):
#   SHA-256, 1 GiB in 256 KiB buffers: every Cairn kernel on one core and the selected kernel on
#   two threads, against OpenSSL's one-buffer SHA-256 (`openssl speed -evp sha256`) and against
#   Intel ipsec-mb's best manager at 16 KiB (it refuses plain SHA-256 messages of 64 KiB or more);
#   BLAKE3, same data: every Cairn kernel against the PyPI `blake3` package (Rust, SIMD), one thread.
# Each figure is the best of ROUNDS runs (decimal GB/s).
# usage: Benchmarks/multibuffer/compare.sh [ROUNDS]     (installs libipsec-mb-dev and a venv if missing)
set -euo pipefail
ROUNDS=${1:-3}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/Benchmarks/multibuffer"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
TOTAL=1073741824
SIZE=262144

if ! dpkg -s libipsec-mb-dev >/dev/null 2>&1; then
  echo "installing libipsec-mb-dev…" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq libipsec-mb-dev >/dev/null
fi
VENV="$ROOT/Benchmarks/.venv-multibuffer"
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/python" -c "import blake3" 2>/dev/null || "$VENV/bin/pip" install -q blake3

echo "building cairn (release) and the ipsec-mb harness…" >&2
(cd "$ROOT" && swift build -c release --product cairn >/dev/null)
CAIRN="$ROOT/.build/release/cairn"
cc -O2 -o "$WORK/ipsecmb_bench" "$HERE/ipsecmb_bench.c" -lIPSec_MB

best() { sort -g | tail -1; }
# cairn bench hash --json prints one object per kernel with "MBps".
cairn_rate() { # HASH KERNEL THREADS
  for _ in $(seq "$ROUNDS"); do
    "$CAIRN" bench hash --json --hash "$1" --kernel "$2" --threads "$3" --size $SIZE --total $TOTAL \
      | sed -n 's/.*"MBps":\([0-9]*\).*/\1/p' | awk '{ printf "%.3f\n", $1 / 1000 }'
  done | best
}
openssl_rate() {
  for _ in $(seq "$ROUNDS"); do
    openssl speed -evp sha256 -bytes $SIZE -seconds 2 2>/dev/null \
      | awk '$1 == "sha256" { v = $NF; sub(/k$/, "", v); printf "%.3f\n", v / 1e6 }'
  done | best
}
ipsec_rate() {
  for _ in $(seq "$ROUNDS"); do "$WORK/ipsecmb_bench" 16384 $TOTAL; done \
    | awk '$2 ~ /^[0-9.]+$/ { print $2 }' | best
}
ipsec_best_name() { "$WORK/ipsecmb_bench" 16384 $((TOTAL / 4)) | sort -k2 -g | tail -1 | awk '{ print $1 }'; }
pyblake3_rate() {
  "$VENV/bin/python" - "$ROUNDS" <<'PY'
import sys, time, blake3
rounds = int(sys.argv[1]); size = 262144; total = 1 << 30
region = bytes((i * 7 + 3) & 255 for i in range(1 << 20)) * 64
views = [memoryview(region)[i * size:(i + 1) * size] for i in range(len(region) // size)]
best = 0
for _ in range(rounds):
    start = time.perf_counter()
    for i in range(total // size):
        blake3.blake3(views[i % len(views)], max_threads=1).digest()
    best = max(best, total / (time.perf_counter() - start) / 1e9)
print("%.3f" % best)
PY
}

echo "measuring (best of $ROUNDS)…" >&2
ossl=$(openssl_rate)
ipsec=$(ipsec_rate); ipsec_name=$(ipsec_best_name)
selected=$("$CAIRN" bench hash --kernel openssl --size $SIZE --total $SIZE | sed -n 's/.*selected kernel: //p')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }

printf '\nSHA-256, 1 GiB in 256 KiB buffers, decimal GB/s, best of %s (%s)\n' "$ROUNDS" "$(openssl version | cut -d' ' -f1-2)"
printf '%-28s %8s %10s %12s\n' "implementation" "GB/s" "vs OpenSSL" "vs ipsec-mb"
printf '%-28s %8s %10s %12s\n' "openssl speed (1 buffer)" "$ossl" "1.00x" "$(ratio "$ossl" "$ipsec")"
printf '%-28s %8s %10s %12s\n' "$ipsec_name @16KiB" "$ipsec" "$(ratio "$ipsec" "$ossl")" "1.00x"
for k in shani-x1 shani-x2 shani-x4 avx2-x8 avx512-x16; do
  r=$(cairn_rate sha2-256 "$k" 1 || true)
  [ -n "$r" ] || { printf '%-28s %8s\n' "cairn $k" "skipped (CPU lacks it)"; continue; }
  printf '%-28s %8s %10s %12s\n' "cairn $k" "$r" "$(ratio "$r" "$ossl")" "$(ratio "$r" "$ipsec")"
done
one=$(cairn_rate sha2-256 "$selected" 1); two=$(cairn_rate sha2-256 "$selected" 2)
printf '%-28s %8s %10s %12s   (%s of one core)\n' "cairn $selected, 2 threads" "$two" "$(ratio "$two" "$ossl")" "$(ratio "$two" "$ipsec")" "$(ratio "$two" "$one")"

py=$(pyblake3_rate)
printf '\nBLAKE3, 1 GiB in 256 KiB buffers, one thread, decimal GB/s, best of %s\n' "$ROUNDS"
printf '%-28s %8s %14s\n' "implementation" "GB/s" "vs PyPI blake3"
printf '%-28s %8s %14s\n' "PyPI blake3 (max_threads=1)" "$py" "1.00x"
for k in portable sse41-x4 avx2-x8 avx512-x16; do
  r=$(cairn_rate blake3 "$k" 1 || true)
  [ -n "$r" ] || { printf '%-28s %8s\n' "cairn $k" "skipped"; continue; }
  printf '%-28s %8s %14s\n' "cairn $k" "$r" "$(ratio "$r" "$py")"
done
