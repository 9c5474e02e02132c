#!/usr/bin/env bash
# cairn serve, side by side in one run, on loopback (issue 12's benchmarks). One server (RPC and
# gateway on one fresh store) is measured against its goals and against nginx (Debian) serving
# the same bytes as static files:
#  1. `dag/import` of a SIZE-byte CAR (curl multipart upload, which sends `Expect: 100-continue`;
#     the answer comes once the commit is durable): GiB/s, goal ≥ 1 GiB/s; beside it the
#     device's own durable copy of the same CAR (`dd conv=fdatasync`), the most any durable
#     import can reach on this disk; both the best of RUNS (default 3: this host's disk
#     varies by 2x from one run to the next), the extra imports each into a fresh store of a
#     server of its own, run and stopped before the measured server starts;
#  2. gateway `GET /ipfs/{root}?format=car` of that DAG to `curl -o /dev/null` (every block
#     verified as it is read): GiB/s, goal ≥ 1 GiB/s; beside it nginx sending the CAR file
#     itself (sendfile, nothing verified) to the same curl;
#  3. `wrk -c CONNECTIONS` for DURATION seconds on gateway `GET /ipfs/{cid}?format=raw` of BLOCK-byte
#     blocks (64 distinct leaves, verified when read, then answered from the gateway's cache
#     of verified blocks) against nginx serving the same blocks as files: req/s, bytes/s, p99,
#     errors; goal ≥ 0.4× nginx's bytes/s;
#  4. the same over every leaf of the DAG, more than the cache holds when SIZE ≫ 32 MiB
#     (each block read and hashed on every request): how fast verification alone goes;
#  5. RPC `POST /api/v0/block/stat?arg={cid}` against nginx serving the same JSON answer as a
#     file: the per-request floor (no goal);
#  6. the server's peak RSS (VmHWM, reset through /proc/PID/clear_refs before each phase when
#     the kernel allows it) during the import, the gateway's CAR export, the RPC `dag/export` of
#     the same DAG and the wrk load: goal ≤ 128 MiB each.
# One table: each case, Cairn's figure, the peer's (nginx, or the goal), the ratio, the goal.
# Usage: SIZE=1073741824 DURATION=30 BLOCK=262144 CONNECTIONS=64 RUNS=3 Benchmarks/serve/compare.sh
#        (defaults as shown; CAIRN=path reuses a built binary; run from anywhere)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
size="${SIZE:-1073741824}"
seconds="${DURATION:-30}"
block="${BLOCK:-262144}"
connections="${CONNECTIONS:-64}"

source "$root/Benchmarks/common.sh"
bench_setup serve
file="$work/sm7_$size"
make_input "$work" "$size" "$file"
car="$work/sm7_${size}_$block.car"
[[ -f "$car" ]] || "$cairn" add -Q --cid-version 1 --chunker "size-$block" --car "$car" "$file" >/dev/null
cat "$car" >/dev/null
car_bytes=$(stat -c %s "$car")

# import_seconds API: the wall seconds of one curl dag/import of the CAR to API.
import_seconds() {
    local begin end
    begin=$(date +%s.%N)
    curl -sf -X POST -F "file=@$car" "$1/dag/import?stats=true" >"$work/import.out"
    end=$(date +%s.%N)
    seconds_between "$begin" "$end"
}
# The extra import runs (RUNS - 1), each on a fresh store, one server each.
best_import=""
for _ in $(seq 2 "${RUNS:-3}"); do
    rm -rf "$work/trial"
    "$cairn" serve --store "$work/trial" --api 127.0.0.1:0 --gateway none >"$work/trial.out" 2>"$work/trial.err" &
    trial=$!
    for _ in $(seq 200); do grep -q listening "$work/trial.out" 2>/dev/null && break; sleep 0.1; done
    trial_port=$(sed -n 's#^RPC API server listening on .*/tcp/\([0-9]*\)$#\1#p' "$work/trial.out")
    best_import=$(least "$best_import" "$(import_seconds "http://127.0.0.1:$trial_port/api/v0")")
    kill -INT "$trial"; wait "$trial" 2>/dev/null || true
done
rm -rf "$work/trial"

store="$work/store"
rm -rf "$store" "$work/www"
"$cairn" serve --store "$store" --api 127.0.0.1:0 --gateway 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
nginx_pid=""
trap 'kill $server 2>/dev/null || true; [[ -n "$nginx_pid" ]] && kill $nginx_pid 2>/dev/null || true' EXIT
for _ in $(seq 200); do [[ $(grep -c listening "$work/serve.out" 2>/dev/null) == 2 ]] && break; sleep 0.1; done
api_port=$(sed -n 's#^RPC API server listening on .*/tcp/\([0-9]*\)$#\1#p' "$work/serve.out")
gw_port=$(sed -n 's#^Gateway server listening on .*/tcp/\([0-9]*\)$#\1#p' "$work/serve.out")
api="http://127.0.0.1:$api_port/api/v0"
gateway="http://127.0.0.1:$gw_port"


# Peak RSS per phase: VmHWM after writing 5 to clear_refs (Linux ≥ 4.0, same user) starts over.
peak_reset() { echo 5 >"/proc/$server/clear_refs" 2>/dev/null && hwm_reset="" || hwm_reset=" (since start)"; }
peak_mib() { awk '/VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$server/status"; }
hwm_reset=""

# 1. dag/import
peak_reset
best_import=$(least "$best_import" "$(import_seconds "$api")")
import_rate=$(gib_per_s "$car_bytes" "$best_import")
root_cid=$(sed -n 's/.*"Root":{"Cid":{"\/":"\([^"]*\)"}.*/\1/p' "$work/import.out" | head -1)
[[ -n "$root_cid" ]] || { echo "dag/import failed: $(cat "$work/import.out")" >&2; exit 1; }
import_rss=$(peak_mib)$hwm_reset

# The device's durable copy of the same bytes: the ceiling of a durable import here.
best_copy=""
for _ in $(seq "${RUNS:-3}"); do
    begin=$(date +%s.%N)
    dd if="$car" of="$work/car.copy" bs=4M conv=fdatasync status=none
    end=$(date +%s.%N)
    best_copy=$(least "$best_copy" "$(seconds_between "$begin" "$end")")
    rm -f "$work/car.copy"
done
copy_rate=$(gib_per_s "$car_bytes" "$best_copy")

# 2. CAR out of the gateway
peak_reset
begin=$(date +%s.%N)
curl -sf -o /dev/null -H "Accept: application/vnd.ipld.car" "$gateway/ipfs/$root_cid?format=car"
end=$(date +%s.%N)
export_rate=$(gib_per_s "$car_bytes" "$(seconds_between "$begin" "$end")")
export_rss=$(peak_mib)$hwm_reset

# 2b. The same DAG out of the RPC API (`dag/export`, blocks borrowed from the store's mapped
# packs and verified in batches): its rate and the server's peak RSS while it runs.
peak_reset
begin=$(date +%s.%N)
curl -sf -o /dev/null -X POST "$api/dag/export?arg=$root_cid"
end=$(date +%s.%N)
rpc_export_rate=$(gib_per_s "$car_bytes" "$(seconds_between "$begin" "$end")")
rpc_export_rss=$(peak_mib)$hwm_reset

# The same leaves as static files for nginx, and block/stat's answer as a file.
mkdir -p "$work/www/ipfs" "$work/www/stat"
"$cairn" car ls "$car" >"$work/car.ls"
awk -v b="$block" '$2 == b { print $1 }' "$work/car.ls" >"$work/all-leaves"
head -64 "$work/all-leaves" >"$work/leaves"
[[ $(wc -l <"$work/leaves") == 64 ]] || { echo "fewer than 64 $block-byte leaves in the CAR (SIZE too small?)" >&2; exit 1; }
while read -r cid; do curl -sf -o "$work/www/ipfs/$cid" "$gateway/ipfs/$cid?format=raw"; done <"$work/leaves"
first=$(head -1 "$work/leaves")
curl -sf -X POST "$api/block/stat?arg=$first" >"$work/www/stat/answer.json"
cat >"$work/nginx.conf" <<NGX
worker_processes 2; pid $work/nginx.pid; error_log $work/nginx.err; daemon off;
events { worker_connections 1024; }
http { access_log off; sendfile on; server { listen 127.0.0.1:0; root $work/www; } }
NGX
# nginx cannot report a port it picked: find a free one.
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i "s/listen 127.0.0.1:0/listen 127.0.0.1:$nginx_port/" "$work/nginx.conf"
nginx -c "$work/nginx.conf" -p "$work" &
nginx_pid=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/stat/answer.json" && break; sleep 0.1; done

# nginx sending the CAR file itself (hard link into its root; sendfile, nothing verified).
ln -f "$car" "$work/www/dag.car" 2>/dev/null || cp "$car" "$work/www/dag.car"
begin=$(date +%s.%N)
curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/dag.car"
end=$(date +%s.%N)
nginx_car_rate=$(gib_per_s "$car_bytes" "$(seconds_between "$begin" "$end")")

# wrk_run NAME METHOD URL_PREFIX URL_SUFFIX BASE [LIST]: rotates over the CIDs in LIST (default:
# the 64 leaves); prints "req/s MiB/s p99 errors" (errors: non-2xx answers plus socket errors).
wrk_run() {
    cat >"$work/$1.lua" <<LUA
local paths = {}
for line in io.lines("${6:-$work/leaves}") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("$2", "$3" .. paths[i] .. "$4")
end
LUA
    wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/$1.lua" "${5}" >"$work/$1.wrk"
    awk '
        /Requests\/sec/ { rps = $2 }
        /Transfer\/sec/ { v = $2; f = 1 / 1048576
                          if (v ~ /KB$/) f = 1 / 1024; else if (v ~ /MB$/) f = 1; else if (v ~ /GB$/) f = 1024
                          sub(/[KMG]?B$/, "", v); mib = v * f }
        $1 == "99%" { p99 = $2 }
        /Non-2xx/ { errors += $NF }
        /Socket errors/ { for (i = 3; i <= NF; i++) { gsub(/,/, "", $i); if ($i ~ /^[0-9]+$/) errors += $i } }
        END { printf "%s %.1f %s %d\n", rps, mib, p99, errors }' "$work/$1.wrk"
}
peak_reset
read -r raw_rps raw_mib raw_p99 raw_err < <(wrk_run raw GET "/ipfs/" "?format=raw" "$gateway")
read -r ngx_rps ngx_mib ngx_p99 ngx_err < <(wrk_run nginx-raw GET "/ipfs/" "" "http://127.0.0.1:$nginx_port")
read -r all_rps all_mib all_p99 all_err < <(wrk_run raw-all GET "/ipfs/" "?format=raw" "$gateway" "$work/all-leaves")
read -r stat_rps stat_mib stat_p99 stat_err < <(wrk_run stat POST "/api/v0/block/stat?arg=" "" "http://127.0.0.1:$api_port")
read -r ngs_rps ngs_mib ngs_p99 ngs_err < <(wrk_run nginx-stat GET "/stat/answer.json?arg=" "" "http://127.0.0.1:$nginx_port")
load_rss=$(peak_mib)$hwm_reset
all_count=$(wc -l <"$work/all-leaves")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
row() { printf '| %-52s | %24s | %24s | %6s | %-7s |\n' "$@"; }
echo
echo "cairn serve vs nginx $(nginx -v 2>&1 | sed 's/.*\///'), loopback, $((size >> 20)) MiB DAG ($block-byte leaves), wrk -c$connections -d${seconds}s"
row "case" "cairn" "peer" "ratio" "goal"
row "----------------------------------------------------" "------------------------" "------------------------" "------" "-------"
row "dag/import $((car_bytes >> 20)) MiB CAR (GiB/s; peer = goal)" "$import_rate" "1.00" "$(ratio "$import_rate" 1)" "≥ 1"
row "  vs dd conv=fdatasync of the CAR (GiB/s)" "$import_rate" "$copy_rate" "$(ratio "$import_rate" "$copy_rate")" "(ceiling)"
row "GET ?format=car of the DAG (GiB/s; peer = goal)" "$export_rate" "1.00" "$(ratio "$export_rate" 1)" "≥ 1"
row "  vs nginx sending the CAR file (GiB/s)" "$export_rate" "$nginx_car_rate" "$(ratio "$export_rate" "$nginx_car_rate")" "(info)"
row "RPC dag/export of the DAG (GiB/s)" "$rpc_export_rate" "1.00" "$(ratio "$rpc_export_rate" 1)" "(info)"
row "GET ?format=raw, 64 blocks: MiB/s vs nginx" "$raw_mib" "$ngx_mib" "$(ratio "$raw_mib" "$ngx_mib")" "≥ 0.4"
row "  req/s" "$raw_rps" "$ngx_rps" "$(ratio "$raw_rps" "$ngx_rps")" ""
row "  p99, errors" "$raw_p99 $raw_err" "$ngx_p99 $ngx_err" "" "0 err"
row "GET ?format=raw, all $all_count leaves: MiB/s vs nginx" "$all_mib" "$ngx_mib" "$(ratio "$all_mib" "$ngx_mib")" "(info)"
row "  req/s, p99, errors" "$all_rps $all_p99 $all_err" "" "" "0 err"
row "POST block/stat: req/s vs nginx (same JSON)" "$stat_rps" "$ngs_rps" "$(ratio "$stat_rps" "$ngs_rps")" "(none)"
row "  p99, errors" "$stat_p99 $stat_err" "$ngs_p99 $ngs_err" "" "0 err"
row "peak RSS during dag/import (MiB; peer = goal)" "$import_rss" "128" "$(ratio "${import_rss%% *}" 128)" "≤ 1"
row "peak RSS during the CAR export (MiB)" "$export_rss" "128" "$(ratio "${export_rss%% *}" 128)" "≤ 1"
row "peak RSS during RPC dag/export (MiB)" "$rpc_export_rss" "128" "$(ratio "${rpc_export_rss%% *}" 128)" "≤ 1"
row "peak RSS under the wrk loads (MiB)" "$load_rss" "128" "$(ratio "${load_rss%% *}" 128)" "≤ 1"
