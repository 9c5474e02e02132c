# Shared by the Benchmarks/*/compare.sh scripts (sourced, after `root` is set to the project).

# Builds the release `cairn` and sets `cairn` to its path (CAIRN_BIN=PATH: use that binary, no build).
build_cairn() {
    if [[ -n "${CAIRN_BIN:-}" ]]; then cairn="$CAIRN_BIN"; return; fi
    echo "building release…" >&2
    (cd "$root" && swift build -c release --product cairn >/dev/null)
    cairn="$root/.build/release/cairn"
}

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
# emptied first; sets `server` (its pid), `port` and `addr` (http://127.0.0.1:PORT).
start_serve() {
    local work="$1" store="$2"
    rm -rf "$store"
    "$cairn" serve --store "$store" --api 127.0.0.1:0 --gateway none >"$work/serve.out" 2>"$work/serve.err" &
    server=$!
    for _ in $(seq 100); do grep -q "listening" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
    port=$(sed -n 's#.*/tcp/\([0-9]*\)$#\1#p' "$work/serve.out" | head -1)
    addr="http://127.0.0.1:$port"
}
