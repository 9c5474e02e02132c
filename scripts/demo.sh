#!/usr/bin/env bash
# `make run`: Cairn's main job on generated sample data, as far as Cairn goes today.
# Later issues (DAG builder, store) grow this into add → store → dedup.
set -euo pipefail
CAIRN=${1:-.build/release/cairn}
WORK=${CAIRN_DEMO_DIR:-.build/demo}
mkdir -p "$WORK"
SAMPLE="$WORK/sample.bin"
if [ ! -f "$SAMPLE" ]; then
  python3 scripts/splitmix.py 7 8388608 "$SAMPLE"
fi
section() { printf '\n== %s\n' "$*"; }

section "Sample: $SAMPLE ($(wc -c <"$SAMPLE") bytes of SplitMix64, seed 7)"

section "The sample as one raw block, in several hashes and bases (cairn hash)"
for h in sha2-256 sha2-512 sha3-256 blake2b-256 blake3; do
  printf '%-12s %s\n' "$h" "$("$CAIRN" hash --hash "$h" "$SAMPLE")"
done
printf '%-12s %s\n' "base58btc" "$("$CAIRN" hash --base base58btc "$SAMPLE")"
printf '%-12s %s\n' "base64url" "$("$CAIRN" hash --base base64url "$SAMPLE")"

section "Inspecting one (cairn cid inspect)"
"$CAIRN" cid inspect "$("$CAIRN" hash --hash blake3 "$SAMPLE")"

section "A CIDv0 re-encoded as CIDv1 (cairn cid format --v1)"
echo "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n -> $("$CAIRN" cid format --v1 QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n)"

if "$CAIRN" --help | grep -q "^ *chunk "; then
  section "Chunking the sample with each chunker (cairn chunk --stats)"
  for c in size-262144 rabin buzhash fastcdc; do
    printf '%-12s ' "$c"; "$CAIRN" chunk --chunker "$c" --stats "$SAMPLE" | tr '\n' ' '; echo
  done
fi

section "Kubo-compatible CIDs of the sample (cairn add --only-hash)"
"$CAIRN" add --only-hash "$SAMPLE"
"$CAIRN" add --only-hash --cid-version 1 "$SAMPLE"

# The main job: two versions of a "layer" made from files on this machine, added to the
# embedded default store; how many blocks does version 2 share with version 1?
export CAIRN_HOME="$WORK/store"
rm -rf "$CAIRN_HOME"
LAYER1="$WORK/layer-v1.tar" LAYER2="$WORK/layer-v2.tar"
SRC=/usr/share/doc
[ -d /usr/lib/python3.11 ] && SRC=/usr/lib/python3.11
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$(dirname "$SRC")" -cf "$LAYER1" "$(basename "$SRC")" 2>/dev/null
# Version 2: the same tree with a few files edited and one file added near the start.
rm -rf "$WORK/v2tree" && mkdir -p "$WORK/v2tree" && cp -a "$SRC" "$WORK/v2tree/"
V2="$WORK/v2tree/$(basename "$SRC")"
find "$V2" -type f -name '*.py' | sort | awk 'NR % 97 == 1' | while read -r f; do echo "# patched by cairn demo" >> "$f"; done
printf 'a new file in version 2\n' > "$V2/0-added-in-v2.txt"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$WORK/v2tree" -cf "$LAYER2" "$(basename "$SRC")" 2>/dev/null

section "Two versions of a layer ($SRC as tar: $(wc -c <"$LAYER1") and $(wc -c <"$LAYER2") bytes) in the store $CAIRN_HOME"
blocks_of() { "$CAIRN" car export "$1" -o - | "$CAIRN" car ls - | awk '{ print $1 }' | sort -u; }
printf '%-14s %-48s %8s %8s %8s %s\n' chunker "root of version 2" "v1 blks" "v2 blks" "shared" "v2 bytes already stored"
for chunker in size-262144 buzhash fastcdc-16384-65536-262144; do
  r1=$("$CAIRN" add -Q --cid-version 1 --chunker "$chunker" --pin-name "layer-v1-$chunker" "$LAYER1")
  r2=$("$CAIRN" add -Q --cid-version 1 --chunker "$chunker" --pin-name "layer-v2-$chunker" "$LAYER2")
  blocks_of "$r1" > "$WORK/b1" && blocks_of "$r2" > "$WORK/b2"
  shared=$(comm -12 "$WORK/b1" "$WORK/b2" | wc -l)
  shared_bytes=$("$CAIRN" car export "$r2" -o - | "$CAIRN" car ls - | sort -u | \
    awk -v list="$WORK/b1" 'BEGIN { while ((getline l < list) > 0) seen[l] = 1 } ($1 in seen) { s += $2 } { t += $2 } END { printf "%.1f %%", t ? 100 * s / t : 0 }')
  printf '%-14s %-48s %8s %8s %8s %s\n' "$chunker" "$r2" "$(wc -l <"$WORK/b1")" "$(wc -l <"$WORK/b2")" "$shared" "$shared_bytes"
done
"$CAIRN" store stat
"$CAIRN" pin ls | head -6

section "Pushing both versions to a Cairn node (cairn serve on loopback, cairn push)"
# A second store served over Kubo's RPC on a free loopback port: version 1 goes up whole, then
# version 2 sends only the blocks the node lacks, pinned under the same name (--replace).
REMOTE_STORE="$WORK/remote-store"
rm -rf "$REMOTE_STORE"
"$CAIRN" serve --store "$REMOTE_STORE" --api 127.0.0.1:0 --gateway none > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVE_PID=$!
trap 'kill $SERVE_PID 2>/dev/null || true' EXIT
API=""
for _ in $(seq 1 200); do
  API=$(sed -n 's/^RPC API server listening on //p' "$WORK/serve.out" | head -1)
  [ -n "$API" ] && break
  sleep 0.05
done
[ -n "$API" ] || { echo "cairn serve did not start:" >&2; cat "$WORK/serve.err" >&2; exit 1; }
echo "node: $API"
push() {
  "$CAIRN" push "$1" --to "$API" --cid-version 1 --chunker fastcdc-16384-65536-262144 \
    --pin-name demo-layer --replace --json
}
summary() {
  python3 -c 'import json, sys
d = json.load(sys.stdin)
print("%s: %d blocks, %d bytes; already on the node %d blocks; sent %d blocks, %d bytes in %.2f s" % (sys.argv[1],
      d["DagBlocks"], d["DagBytes"], d["PresentBlocks"], d["UploadedBlocks"], d["UploadedBytes"], d["Seconds"]))' "$1"
}
push "$LAYER1" | summary "version 1"
push "$LAYER2" | summary "version 2"
push "$LAYER2" | summary "version 2 again"
kill $SERVE_PID && wait $SERVE_PID 2>/dev/null || true
trap - EXIT

section "Hashing throughput of this machine, 256 MiB per kernel (cairn bench hash)"
"$CAIRN" bench hash --total 268435456
"$CAIRN" bench hash --hash blake3 --total 268435456
