#!/usr/bin/env bash
# cairn serve, the Kubo RPC side: `dag/import` of a 1 GiB CAR (curl, multipart; durable when the
# response ends) and `block/stat` under wrk (64 connections, 30 s, POST through a Lua script),
# with the server's peak RSS for each. The gateway cases (and nginx) belong to the gateway's
# own rows of this script.
# Usage: Benchmarks/serve/compare.sh [SIZE_BYTES] [WRK_SECONDS]   (run from anywhere; builds release first)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
size="${1:-1073741824}"
seconds="${2:-30}"
work="${TMPDIR:-/tmp}/cairn-serve-bench"
mkdir -p "$work"
file="$work/sm7_$size"

source "$root/Benchmarks/common.sh"
build_cairn
make_input "$work" "$size" "$file"
car="$work/sm7_$size.car"
[[ -f "$car" ]] || "$cairn" add -Q --cid-version 1 --car "$car" "$file" >/dev/null
cat "$car" >/dev/null

store="$work/store"
start_server() {
    rm -rf "$store"
    "$cairn" serve --store "$store" --api 127.0.0.1:0 --gateway none >"$work/serve.out" 2>"$work/serve.err" &
    server=$!
    for _ in $(seq 100); do grep -q "listening" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
    port=$(sed -n 's#.*/tcp/\([0-9]*\)$#\1#p' "$work/serve.out" | head -1)
    url="http://127.0.0.1:$port/api/v0"
}
stop_server() { kill -TERM "$server"; wait "$server" || true; }
peak_rss() { awk '/VmHWM/ { printf "%d MB", $2 / 1024 }' "/proc/$server/status"; }

printf '%-40s %10s %10s %12s\n' "case" "wall s" "GiB/s" "server peak"
start_server
begin=$(date +%s.%N)
curl -sf -X POST -H "Expect:" -F "file=@$car" "$url/dag/import?stats=true" >"$work/import.out"
end=$(date +%s.%N)
wall=$(awk -v a="$begin" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
printf '%-40s %10s %10s %12s\n' "dag/import $(($(stat -c %s "$car") >> 20)) MiB CAR" "$wall" \
    "$(awk -v s="$(stat -c %s "$car")" -v w="$wall" 'BEGIN { printf "%.2f", s / 1073741824 / w }')" "$(peak_rss)"

cid=$(curl -sf -X POST "$url/refs/local" | head -1 | sed 's/.*"Ref":"\([^"]*\)".*/\1/')
cat >"$work/stat.lua" <<LUA
wrk.method = "POST"
wrk.path = "/api/v0/block/stat?arg=$cid"
LUA
wrk -t2 -c64 -d"${seconds}s" --latency -s "$work/stat.lua" "http://127.0.0.1:$port" >"$work/wrk.out"
rps=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk.out")
p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk.out")
errors=$(awk '/Non-2xx|Socket errors/ { print }' "$work/wrk.out")
printf '%-40s %10s %10s %12s\n' "block/stat wrk -c64 ${seconds}s" "${rps} r/s" "p99 $p99" "$(peak_rss)"
[[ -z "$errors" ]] || echo "wrk: $errors"
stop_server
