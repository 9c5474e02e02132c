#!/usr/bin/env bash
# Compare Cairn's chunkers with peers on the same 1 GiB of SplitMix64 data (seed 42), one core each.
#
#   Benchmarks/chunking/compare.sh [MIB] [RUNS]
#
# Installs what is missing: Debian golang-go + golang-github-restic-chunker-dev (Go harness in
# restic/, built with GO111MODULE=off against /usr/share/gocode) and pyfastcdc 0.3.1 in
# Benchmarks/.venv-chunking. Builds the release ChunkingThroughput tool, writes the data to /tmp,
# runs everyone on it and prints one table.
#
# CPU_TIME=1 times each run by the measuring thread's CPU time instead of wall time (ours, the Go
# harness and pyfastcdc alike): steadier when other jobs share the machine. The file-read row
# always uses wall time.
set -euo pipefail

MIB="${1:-1024}"
RUNS="${2:-3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH="$(cd "$HERE/.." && pwd)"
DATA="/tmp/cairn-chunking-${MIB}mib-seed42.bin"
VENV="$BENCH/.venv-chunking"
WORK="$(mktemp -d /tmp/cairn-chunking-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

log() { echo "compare.sh: $*" >&2; }

# --- peers -------------------------------------------------------------------------------------
missing=""
for p in golang-go golang-github-restic-chunker-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    log "installing apt packages:$missing"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import pyfastcdc' 2>/dev/null; then
    log "creating $VENV with pyfastcdc 0.3.1"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q pyfastcdc==0.3.1
fi

log "building the restic harness"
( cd "$HERE/restic" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$WORK/gocache" \
    go build -o "$WORK/restic-throughput" . )

log "building ChunkingThroughput (release)"
( cd "$BENCH" && swift build -c release --product ChunkingThroughput >/dev/null )
TOOL="$BENCH/.build/release/ChunkingThroughput"

if [ ! -f "$DATA" ] || [ "$(stat -c %s "$DATA")" != "$((MIB << 20))" ]; then
    log "writing $MIB MiB of SplitMix64 data to $DATA"
    "$TOOL" --mib "$MIB" --write "$DATA"
fi
cat "$DATA" >/dev/null  # page cache

# --- runs --------------------------------------------------------------------------------------
log "running Cairn (in memory)"
CLOCK_ENV=(); [ "${CPU_TIME:-0}" = 1 ] && CLOCK_ENV=(CAIRN_CPU_TIME=1)
env "${CLOCK_ENV[@]}" "$TOOL" --mib "$MIB" --runs "$RUNS" rabin buzhash fastcdc fastcdc-16384-65536-262144-2 > "$WORK/ours.txt"
log "running Cairn size-262144 (reading the file through ChunkReader)"
"$TOOL" --runs "$RUNS" --file "$DATA" size-262144 > "$WORK/ours-file.txt"
log "running restic/chunker"
env "${CLOCK_ENV[@]}" "$WORK/restic-throughput" "$DATA" "$RUNS" > "$WORK/restic.txt"
log "running pyfastcdc"
env "${CLOCK_ENV[@]}" "$VENV/bin/python" "$HERE/pyfastcdc_throughput.py" "$DATA" "$RUNS" 65536-262144-1048576-1 16384-65536-262144-2 > "$WORK/py.txt"
"$VENV/bin/python" "$HERE/read_throughput.py" "$DATA" "$RUNS" > "$WORK/read.txt"

speed() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

row() {  # chunker ours peer peer_speed
    local ratio="-"
    if [ -n "$4" ] && [ "$4" != "-" ]; then ratio=$(awk -v a="$2" -v b="$4" 'BEGIN { printf "%.2f", a / b }'); fi
    printf "| %-34s | %10s | %-44s | %10s | %6s |\n" "$1" "$2" "$3" "$4" "$ratio"
}

echo
echo "Single core, ${MIB} MiB of SplitMix64 (seed 42), best of $RUNS, $([ "${CPU_TIME:-0}" = 1 ] && echo "thread CPU time" || echo "wall time"); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
printf "| %-34s | %10s | %-44s | %10s | %6s |\n" "chunker" "ours GiB/s" "peer" "peer GiB/s" "ratio"
printf "|%s|%s|%s|%s|%s|\n" "------------------------------------" "------------" "----------------------------------------------" "------------" "--------"
row "size-262144 (from file)" "$(speed "$WORK/ours-file.txt" size-262144)" "python readinto 256 KiB loop (read floor)" "$(speed "$WORK/read.txt" read-262144)"
row "rabin (Kubo, 87381/262144/393216)" "$(speed "$WORK/ours.txt" rabin)" "restic/chunker 0.4.0, same bounds, 18 bits" "$(speed "$WORK/restic.txt" restic-kubo-bounds)"
row "rabin (Kubo, 87381/262144/393216)" "$(speed "$WORK/ours.txt" rabin)" "restic/chunker 0.4.0, its defaults" "$(speed "$WORK/restic.txt" restic-default)"
row "buzhash (Kubo)" "$(speed "$WORK/ours.txt" buzhash)" "(no packaged peer; boxo's is Go, not in Debian)" "-"
row "fastcdc (65536-262144-1048576-1)" "$(speed "$WORK/ours.txt" fastcdc)" "pyfastcdc 0.3.1" "$(speed "$WORK/py.txt" 65536-262144-1048576-1)"
row "fastcdc-16384-65536-262144-2" "$(speed "$WORK/ours.txt" fastcdc-16384-65536-262144-2)" "pyfastcdc 0.3.1" "$(speed "$WORK/py.txt" 16384-65536-262144-2)"

# Parallel chunking and cairn chunk against pyfastcdc as whole processes (issue 16).
"$HERE/parallel.sh" "$((MIB << 20))"
