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

if "$CAIRN" --help | grep -q "^ *add "; then
  section "Kubo-compatible CIDs of the sample (cairn add --only-hash)"
  "$CAIRN" add --only-hash "$SAMPLE"
  "$CAIRN" add --only-hash --cid-version 1 "$SAMPLE"
fi

section "Hashing throughput of this machine, 256 MiB per kernel (cairn bench hash)"
"$CAIRN" bench hash --total 268435456
"$CAIRN" bench hash --hash blake3 --total 268435456
