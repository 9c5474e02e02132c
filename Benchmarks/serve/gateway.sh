#!/usr/bin/env bash
# Gateway throughput (spec/gateway.md), side by side in one run:
#  1. `wrk -c64 -d30s` on `GET /ipfs/{cid}?format=raw` of 256 KiB blocks (verified on every read)
#     against nginx serving the same blocks as static files (goal: ≥ 0.4× nginx's bytes/s);
#  2. `GET ?format=car` of a 1 GiB DAG to `curl -o /dev/null` (goal: ≥ 1 GiB/s);
#  3. the server's peak RSS (VmHWM) over both (goal: ≤ 128 MiB).
# Usage: Benchmarks/serve/gateway.sh [SIZE_BYTES] [DURATION]   (default 1 GiB, 30s)
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE=${1:-1073741824}
DURATION=${2:-30s}
WORK=${TMPDIR:-/tmp}/cairn-gateway-bench
mkdir -p "$WORK"
swift build -c release --product cairn >/dev/null
CAIRN=$PWD/.build/release/cairn
INPUT="$WORK/sm7_$SIZE"
[ -f "$INPUT" ] || python3 scripts/splitmix.py 7 "$SIZE" "$INPUT"
STORE="$WORK/store"
rm -rf "$STORE" "$WORK/www"
ROOT=$("$CAIRN" add --store "$STORE" -Q --cid-version 1 --raw-leaves --chunker size-262144 "$INPUT")

# 64 leaf CIDs, and the same blocks as static files for nginx.
mkdir -p "$WORK/www/ipfs"
"$CAIRN" car export --store "$STORE" "$ROOT" -o "$WORK/dag.car"
"$CAIRN" car ls "$WORK/dag.car" | awk '$2 == 262144 {print $1}' | head -64 > "$WORK/leaves"
rm -f "$WORK/dag.car"
while read -r cid; do "$CAIRN" block get --store "$STORE" "$cid" > "$WORK/www/ipfs/$cid"; done < "$WORK/leaves"
cat > "$WORK/paths.lua" <<LUA
local paths = {}
for line in io.lines("$WORK/leaves") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", PREFIX .. paths[i] .. SUFFIX, {["Accept"] = "application/vnd.ipld.raw"})
end
LUA

GW_PORT=18480; NGINX_PORT=18481
"$CAIRN" serve --store "$STORE" --api none --gateway "127.0.0.1:$GW_PORT" 2>"$WORK/serve.log" &
SERVER=$!
cat > "$WORK/nginx.conf" <<NGX
worker_processes 2; pid $WORK/nginx.pid; error_log $WORK/nginx.err; daemon off;
events { worker_connections 1024; }
http { access_log off; sendfile on; server { listen 127.0.0.1:$NGINX_PORT; root $WORK/www; } }
NGX
nginx -c "$WORK/nginx.conf" -p "$WORK" &
NGINX=$!
trap 'kill $SERVER $NGINX 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$GW_PORT/ipfs/bafkqaaa?format=raw" >/dev/null && break; sleep 0.2; done

bench() {  # bench NAME URL_PREFIX URL_SUFFIX
  sed -e "s|PREFIX|\"$2\"|" -e "s|SUFFIX|\"$3\"|" "$WORK/paths.lua" > "$WORK/run.lua"
  wrk -t2 -c64 -d"$DURATION" --latency -s "$WORK/run.lua" "http://127.0.0.1" > "$WORK/$1.wrk"
  local rps mbs p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/$1.wrk")
  mbs=$(awk '/Transfer\/sec/ {print $2}' "$WORK/$1.wrk")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/$1.wrk")
  errors=$(grep -c "Non-2xx\|Socket errors" "$WORK/$1.wrk" || true)
  printf '| %-34s | %10s | %10s | %8s | %6s |\n' "$1" "$rps" "$mbs" "$p99" "$errors"
}
printf '| %-34s | %10s | %10s | %8s | %6s |\n' "256 KiB raw blocks, wrk -c64 -d$DURATION" "req/s" "bytes/s" "p99" "errors"
printf '|%s|%s|%s|%s|%s|\n' "------------------------------------" "------------" "------------" "----------" "--------"
bench "cairn serve (?format=raw)" "http://127.0.0.1:$GW_PORT/ipfs/" "?format=raw"
bench "nginx (static files)" "http://127.0.0.1:$NGINX_PORT/ipfs/" ""

T0=$(date +%s.%N)
curl -sf -H "Accept: application/vnd.ipld.car" -o /dev/null "http://127.0.0.1:$GW_PORT/ipfs/$ROOT?format=car"
T1=$(date +%s.%N)
echo
echo "CAR of the $((SIZE >> 20)) MiB DAG to curl: $(echo "scale=2; $SIZE / ($T1 - $T0) / 1073741824" | bc -l) GiB/s"
echo "cairn serve peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER/status)"
