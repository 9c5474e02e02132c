# Shared by the Benchmarks/*/compare.sh scripts (sourced, after `root` is set to the project).

# Builds the release `cairn` and sets `cairn` to its path (CAIRN=PATH or CAIRN_BIN=PATH: use
# that binary, no build).
build_cairn() {
    if [[ -n "${CAIRN:-}" ]]; then cairn="$CAIRN"; return; fi
    if [[ -n "${CAIRN_BIN:-}" ]]; then cairn="$CAIRN_BIN"; return; fi
    echo "building release…" >&2
    (cd "$root" && swift build -c release --product cairn >/dev/null)
    cairn="$root/.build/release/cairn"
}

# bench_setup NAME: the work directory `work` ($TMPDIR or /tmp, then cairn-NAME-bench), made
# if missing, and `cairn` (build_cairn).
bench_setup() {
    work="${TMPDIR:-/tmp}/cairn-$1-bench"
    mkdir -p "$work"
    build_cairn
}

# seconds_between T0 T1: T1 - T0 (from `date +%s.%N`), three decimals.
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# gib_per_s BYTES SECONDS: GiB/s ("-" for no time).
gib_per_s() { awk -v s="$1" -v w="$2" 'BEGIN { if (w > 0) printf "%.2f", s / 1073741824 / w; else print "-" }'; }
# least A B: the smaller number (B when A is empty): the best of several runs.
least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }

# Compiles the SplitMix64 generator into WORK/splitmix (once).
build_splitmix() {
    local work="$1"
    [[ -x "$work/splitmix" ]] || cc -O2 -o "$work/splitmix" "$root/Benchmarks/add/splitmix.c"
}

# make_input WORK SIZE FILE: SIZE bytes of SplitMix64 (seed 7) in FILE unless already there,
# then read once so that every case starts with the file in the page cache.
make_input() {
    local work="$1" size="$2" file="$3"
    if [[ ! -f "$file" ]] || [[ "$(stat -c %s "$file")" != "$size" ]]; then
        build_splitmix "$work"
        "$work/splitmix" 7 "$size" "$file"
    fi
    cat "$file" >/dev/null
}

# start_serve WORK STORE: `cairn serve` (RPC API only) on a free loopback port over STORE,
# emptied first; sets `server` (its pid), `port` and `addr` (http://127.0.0.1:PORT). Waits up
# to 70 s for a loaded machine to print the port, else fails naming WORK/serve.err.
start_serve() {
    local work="$1" store="$2"
    rm -rf "$store"
    "$cairn" serve --store "$store" --api 127.0.0.1:0 --gateway none >"$work/serve.out" 2>"$work/serve.err" &
    server=$!
    port=""
    for _ in $(seq 700); do
        port=$(sed -n 's#.*/tcp/\([0-9]*\)$#\1#p' "$work/serve.out" 2>/dev/null | head -1)
        [[ -n "$port" ]] && break
        sleep 0.1
    done
    [[ -n "$port" ]] || { echo "$0: cairn serve did not start (see $work/serve.err)" >&2; exit 1; }
    addr="http://127.0.0.1:$port"
}

# stop_serve: stops the server start_serve started, if any (SIGTERM, then waits for it).
stop_serve() { if [[ -n "${server:-}" ]]; then kill -TERM "$server"; wait "$server" || true; server=""; fi; }
