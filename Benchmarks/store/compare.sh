#!/usr/bin/env bash
# Block store throughput: `cairn add` into a store (durable at exit) vs the disk's own durable
# write speed (dd conv=fsync), re-adding the same file (every block present), and hasMany on a
# store of 1 million blocks. Prints one table.
# Usage: Benchmarks/store/compare.sh [SIZE_BYTES] [BLOCKS]   (builds release first)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
size="${1:-1073741824}"
blocks="${2:-1000000}"
work="${TMPDIR:-/tmp}/cairn-store-bench"
mkdir -p "$work"
file="$work/sm7_$size"

source "$root/Benchmarks/common.sh"
build_cairn
make_input "$work" "$size" "$file"   # input in the page cache for every case

gib() { awk -v b="$size" -v s="$1" 'BEGIN { printf "%.2f", b / 1073741824 / s }'; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

printf '%-44s %8s %8s %s\n' "case" "wall s" "GiB/s" "note"

# 1. The disk's durable write speed.
rm -f "$work/dd.out"; sync
t0=$(now); dd if="$file" of="$work/dd.out" bs=4M conv=fsync status=none; t1=$(now)
dd_s=$(elapsed "$t0" "$t1"); rm -f "$work/dd.out"
printf '%-44s %8s %8s %s\n' "dd bs=4M conv=fsync" "$dd_s" "$(gib "$dd_s")" "disk baseline"

# 2. cairn add into an empty store (pack fsynced, index committed with synchronous=FULL).
rm -rf "$work/store"; sync
t0=$(now); "$cairn" add -Q --store "$work/store" "$file" >"$work/root"; t1=$(now)
add_s=$(elapsed "$t0" "$t1")
printf '%-44s %8s %8s %s\n' "cairn add --store (new store, durable)" "$add_s" "$(gib "$add_s")" \
    "$(awk -v a="$dd_s" -v b="$add_s" 'BEGIN { printf "%.2fx dd", a / b }') root $(cat "$work/root")"

# 3. Re-adding the same file: every block is present (lookups, no writes).
best=""
for _ in 1 2 3; do
    t0=$(now); "$cairn" add -Q --store "$work/store" "$file" >/dev/null; t1=$(now)
    s=$(elapsed "$t0" "$t1")
    if [[ -z "$best" ]] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$s; fi
done
printf '%-44s %8s %8s %s\n' "cairn add --store (re-add, all present)" "$best" "$(gib "$best")" "best of 3"

# 4. Re-hash everything.
t0=$(now); "$cairn" store verify --store "$work/store" >/dev/null; t1=$(now)
v_s=$(elapsed "$t0" "$t1")
printf '%-44s %8s %8s %s\n' "cairn store verify" "$v_s" "$(gib "$v_s")" ""

# 4b. car export from the store (file in the page cache), and real Kubo adding into its own repo.
t0=$(now); "$cairn" car export --store "$work/store" "$(cat "$work/root")" -o "$work/export.car"; t1=$(now)
e_s=$(elapsed "$t0" "$t1"); rm -f "$work/export.car"
printf '%-44s %8s %8s %s\n' "cairn car export (from the store)" "$e_s" "$(gib "$e_s")" "target >= 2 GiB/s"
venv="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.venv"
if [[ -x "$venv/bin/python" ]]; then
    kubo=$("$venv/bin/python" "$(dirname "${BASH_SOURCE[0]}")/kubo_add.py" "$file" 2>/dev/null || true)
    if [[ -n "$kubo" ]]; then
        k_s=${kubo%% *}
        printf '%-44s %8s %8s %s\n' "Kubo 0.22 add into its repo (AddFile)" "$k_s" "$(gib "$k_s")" \
            "$(awk -v a="$k_s" -v b="$add_s" 'BEGIN { printf "cairn add is %.1fx faster", a / b }'); root ${kubo#* }"
    else
        printf '%-44s %8s %8s %s\n' "Kubo 0.22 add into its repo" "-" "-" "skipped: kubo-python not usable here"
    fi
fi

# 5. hasMany on a store of $blocks blocks (filled once, 64-byte raw blocks).
line=$("$cairn" store bench-has --store "$work/has-store" --blocks "$blocks" --lookups 1000000 | tail -1)
printf '%-44s %8s %8s %s\n' "hasMany, store of $blocks blocks" "-" "-" "$line"
