#!/usr/bin/env bash
# cairn push/fetch against `cairn serve` on loopback (Kubo RPC API, every block verified and
# durably stored by the server), side by side in one run (spec/remote.md §8, issue 11):
#  1. existence check of CIDS CIDs (`cairn push --dry-run`), against a server that lacks them
#     and one that holds them, unpinned: by the server's `refs/local` listing (the default when
#     it holds few blocks) beside one `block/stat?offline=true` per CID, 32 in flight
#     (`--list-limit 0`, what a node holding many blocks gets); goal ≥ 20 000 CIDs/s;
#  2. push of SIZE bytes, all new (one file, 256 KiB raw leaves, CIDv1), against the same CAR
#     uploaded by `curl -F file=@CAR .../dag/import` to a fresh server (with Kubo's default
#     pin-roots=true, stored and pinned: the push's whole job, its walk, existence check, upload
#     and pin; and, for information, with pin-roots=false, stored only), and against `cp` of the
#     CAR plus `sync` of the copy; the best of RUNS rounds (default 3), push and curl
#     alternating; goal ≥ 1 GiB/s for the push, ratio push/curl shown (aim ≥ 0.9);
#  3. the same push repeated, unchanged (the remote's recursive pin answers): 0 bytes, ≤ 0.2 s;
#  4. the client's peak RSS (GNU time, "Maximum resident set size") for `cairn push` and
#     `cairn fetch` of a RSS_SIZE-byte DAG; goal ≤ 64 MiB each.
# The table: cairn's figure, the peer's, and ×peer = the peer's time / cairn's (above 1: cairn is faster).
# Usage: Benchmarks/remote/compare.sh [SIZE_BYTES] [CIDS] [RSS_SIZE_BYTES]
#        (defaults 1 GiB, 10000, 4 GiB; CAIRN=path/to/cairn skips the build)
# Validate small: Benchmarks/remote/compare.sh 67108864 2000 67108864
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
size="${1:-1073741824}"
cids="${2:-10000}"
rss_size="${3:-4294967296}"

source "$root/Benchmarks/common.sh"
bench_setup remote

server=""
start_server() { start_serve "$work" "$1"; }
stop_server() { stop_serve; }
trap stop_serve EXIT

# seconds CMD…: wall seconds of one run (output discarded).
seconds() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null || { echo "compare.sh: failed: $*" >&2; exit 1; }
    t1=$(date +%s.%N)
    seconds_between "$t0" "$t1"
}
# peak_mib CMD…: the command's peak RSS in MiB (GNU time).
peak_mib() {
    /usr/bin/time -v "$@" 2>"$work/time.err" >/dev/null
    awk -F: '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$work/time.err"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# add_local NAME BYTES CHUNKER: a SplitMix64 file of BYTES added to its own local store; prints the root.
add_local() {
    local file="$work/sm7_$2"
    make_input "$work" "$2" "$file"
    rm -rf "$work/local-$1"
    "$cairn" add --store "$work/local-$1" -Q --cid-version 1 --raw-leaves --chunker "$3" "$file"
}

rows=()
row() { rows+=("$(printf '%-46s | %-30s | %12s | %12s | %7s | %s' "$@")"); }

# 1. Existence checks: CIDS 4 KiB leaves (plus their few parents).
cid_root=$(add_local cids $((cids * 4096)) size-4096)
check() { "$cairn" push "$cid_root" --to "$addr" --store "$work/local-cids" --dry-run --json "$@"; }
start_server "$work/server"
absent=$(check); absent_stat=$(check --list-limit 0)
"$cairn" car export --store "$work/local-cids" "$cid_root" -o "$work/cids.car"
curl -sf -X POST -H "Expect:" -F "file=@$work/cids.car" "$addr/api/v0/dag/import?pin-roots=false" >/dev/null
present=$(check); present_stat=$(check --list-limit 0)
stop_server
rate() { python3 -c 'import json,sys; s=json.loads(sys.argv[1]); print("%d %.0f" % (s["DagBlocks"], s["DagBlocks"] / s["Seconds"]))' "$1"; }
for case in absent present; do
    stat_name="${case}_stat"
    read -r n r <<<"$(rate "${!case}")"
    read -r _ r_stat <<<"$(rate "${!stat_name}")"
    row "existence of $n CIDs, all $case (refs/local)" "block/stat each (--list-limit 0)" "$r/s" "$r_stat/s" "$(ratio "$r" "$r_stat")" "≥ 20000/s"
done

# 2. Push of SIZE bytes, all new, against curl dag/import of the same CAR and cp + sync.
push_root=$(add_local push "$size" size-262144)
"$cairn" car export --store "$work/local-push" "$push_root" -o "$work/push.car"
car_bytes=$(stat -c %s "$work/push.car")
cat "$work/push.car" >/dev/null
# RUNS rounds (default 3), push and curl alternating, each into a fresh server; the best of each.
t_push="" t_curl="" t_curlpin=""
for _ in $(seq "${RUNS:-3}"); do
    start_server "$work/server"
    t_push=$(least "$t_push" "$(seconds "$cairn" push "$push_root" --to "$addr" --store "$work/local-push")")
    t_again=$(seconds "$cairn" push "$push_root" --to "$addr" --store "$work/local-push")
    again=$("$cairn" push "$push_root" --to "$addr" --store "$work/local-push" --json)
    stop_server
    start_server "$work/server"
    t_curl=$(least "$t_curl" "$(seconds curl -sf -X POST -H "Expect:" -F "file=@$work/push.car" "$addr/api/v0/dag/import?pin-roots=false")")
    stop_server
    # The same upload with Kubo's default pin-roots=true: stored and pinned, the push's whole job.
    start_server "$work/server"
    t_curlpin=$(least "$t_curlpin" "$(seconds curl -sf -X POST -H "Expect:" -F "file=@$work/push.car" "$addr/api/v0/dag/import")")
    stop_server
done
rm -f "$work/copy.car"
t_cp=$(seconds sh -c "cp '$work/push.car' '$work/copy.car' && sync '$work/copy.car'")
rm -f "$work/copy.car"
mib=$((car_bytes >> 20))
row "push $mib MiB, all new (GiB/s)" "curl -F CAR dag/import, pinned" "$(gib_per_s "$car_bytes" "$t_push")" "$(gib_per_s "$car_bytes" "$t_curlpin")" "$(ratio "$t_curlpin" "$t_push")" "≥ 1 GiB/s"
row "push $mib MiB, all new (GiB/s)" "the same, pin-roots=false" "$(gib_per_s "$car_bytes" "$t_push")" "$(gib_per_s "$car_bytes" "$t_curl")" "$(ratio "$t_curl" "$t_push")" "(info)"
row "push $mib MiB, all new (s)" "cp CAR + sync" "$t_push" "$t_cp" "$(ratio "$t_cp" "$t_push")" "-"
uploaded=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["UploadedBytes"])' "$again")
row "push $mib MiB again, unchanged (s)" "-" "$t_again" "-" "-" "≤ 0.2 s, 0 B (sent $uploaded B)"

# 4. Client peak RSS for a RSS_SIZE DAG: push, then fetch back into an empty store.
rss_root=$(add_local rss "$rss_size" size-262144)
start_server "$work/server"
rss_push=$(peak_mib "$cairn" push "$rss_root" --to "$addr" --store "$work/local-rss")
rm -rf "$work/fetched"
rss_fetch=$(peak_mib "$cairn" fetch "$rss_root" --from "$addr" --store "$work/fetched")
stop_server
rss_mib=$((rss_size >> 20))
row "client peak RSS, push of $rss_mib MiB (MiB)" "-" "$rss_push" "-" "-" "≤ 64 MiB"
row "client peak RSS, fetch of $rss_mib MiB (MiB)" "-" "$rss_fetch" "-" "-" "≤ 64 MiB"
rm -rf "$work/fetched" "$work/server"

printf '%-46s | %-30s | %12s | %12s | %7s | %s\n' "case (cairn serve on loopback)" "peer" "cairn" "peer" "×peer" "goal"
printf '%s\n' "${rows[@]}"
