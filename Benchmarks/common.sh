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
