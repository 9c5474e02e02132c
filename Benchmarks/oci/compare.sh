#!/usr/bin/env bash
# OCI layouts: `cairn oci verify` of a layout with gzip layers (default ~1 GiB of layers) side
# by side with `sha256sum` of the blobs and `gzip -dc | sha256sum` of the layers; `cairn oci
# add` throughput and peak RSS (GNU time).
# The layout: umoci images of SplitMix64-and-text files (half compressible), LAYERS layers.
# Usage: Benchmarks/oci/compare.sh [TOTAL_BYTES] [LAYERS]   (builds release first; needs root for umoci)
set -euo pipefail
cd "$(dirname "$0")/../.."
TOTAL=${1:-1073741824}
LAYERS=${2:-4}
WORK=${TMPDIR:-/tmp}/cairn-oci-bench
mkdir -p "$WORK"
# CAIRN=path/to/cairn skips the build (e.g. the binary of a test build).
if [ -z "${CAIRN:-}" ]; then
  swift build -c release --product cairn >/dev/null
  CAIRN=$PWD/.build/release/cairn
fi
LAYOUT="$WORK/layout-$TOTAL-$LAYERS"

if [ ! -f "$LAYOUT/index.json" ]; then
  rm -rf "$LAYOUT" "$WORK/bundle"
  umoci init --layout "$LAYOUT"
  umoci new --image "$LAYOUT:bench"
  umoci unpack --image "$LAYOUT:bench" "$WORK/bundle" >/dev/null
  per=$((TOTAL / LAYERS))
  for n in $(seq 1 "$LAYERS"); do
    # Half SplitMix64 (incompressible), half repeated text (compressible).
    python3 scripts/splitmix.py "$n" $((per / 2)) "$WORK/bundle/rootfs/random-$n.bin"
    (yes "layer $n: the quick brown fox jumps over the lazy dog" || true) | head -c $((per / 2)) > "$WORK/bundle/rootfs/text-$n.txt"
    umoci repack --image "$LAYOUT:bench" "$WORK/bundle"
  done
  rm -rf "$WORK/bundle"
fi

best() {
  local best=""
  for _ in 1 2 3; do
    local t0 t1 dt
    t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
    dt=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || (( $(echo "$dt < $best" | bc -l) )); then best=$dt; fi
  done
  echo "$best"
}

LAYER_FILES=$(python3 - "$LAYOUT" <<'PY'
import json, sys, os
root = sys.argv[1]
index = json.load(open(os.path.join(root, "index.json")))
manifest = json.load(open(os.path.join(root, "blobs", *index["manifests"][0]["digest"].split(":"))))
print(" ".join(os.path.join(root, "blobs", *l["digest"].split(":")) for l in manifest["layers"]))
PY
)
BLOB_BYTES=$(cat "$LAYOUT"/blobs/sha256/* | wc -c)
TAR_BYTES=$(for f in $LAYER_FILES; do gzip -dc "$f"; done | wc -c)
cat "$LAYOUT"/blobs/sha256/* >/dev/null

shablobs() { sha256sum "$LAYOUT"/blobs/sha256/*; }
gunzipsha() { for f in $LAYER_FILES; do gzip -dc "$f" | sha256sum; done; }
T_SHA=$(best shablobs)
T_GUNZIP=$(best gunzipsha)
T_VERIFY=$(best "$CAIRN" oci verify "$LAYOUT")
addfresh() { rm -rf "$WORK/store"; "$CAIRN" oci add --store "$WORK/store" "$LAYOUT"; }
T_ADD=$(best addfresh)
rm -rf "$WORK/store"
RSS=$( { /usr/bin/time -f '%M' "$CAIRN" oci add --store "$WORK/store" "$LAYOUT" >/dev/null; } 2>&1 | tail -1)
rm -rf "$WORK/store"

gib() { echo "scale=3; $1 / $2 / 1073741824" | bc -l; }
printf '| %-58s | %8s | %9s |\n' "operation ($((BLOB_BYTES >> 20)) MiB of blobs, $((TAR_BYTES >> 20)) MiB of tars)" "seconds" "GiB/s"
printf '|%s|%s|%s|\n' "------------------------------------------------------------" "----------" "-----------"
printf '| %-58s | %8.3f | %9s |\n' "sha256sum of every blob" "$T_SHA" "$(gib "$BLOB_BYTES" "$T_SHA")"
printf '| %-58s | %8.3f | %9s |\n' "gzip -dc | sha256sum of every layer (tar bytes)" "$T_GUNZIP" "$(gib "$TAR_BYTES" "$T_GUNZIP")"
printf '| %-58s | %8.3f | %9s |\n' "cairn oci verify (digests + diff_ids; tar bytes)" "$T_VERIFY" "$(gib "$TAR_BYTES" "$T_VERIFY")"
printf '| %-58s | %8.3f | %9s |\n' "cairn oci add (store; blob bytes)" "$T_ADD" "$(gib "$BLOB_BYTES" "$T_ADD")"
echo "cairn oci add peak RSS: $((RSS / 1024)) MiB"
