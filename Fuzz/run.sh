#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for SECONDS (default 60), one after another, at
# the lowest CPU priority with one worker; prints executions per target. The committed seed
# corpus (Fuzz/corpus/<target>) is read only; inputs the fuzzer finds go to
# Fuzz/.build/work/<target>, crashes to Fuzz/.build/crashes/. Exit status 1 if any target crashed.
#
#   Fuzz/run.sh [SECONDS] [TARGET…]        e.g. Fuzz/run.sh 600 car dagpb
#   FUZZ_RUNS=10000000 Fuzz/run.sh 86400     stop each target after that many executions instead
set -uo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}; shift || true
all=(varint:FuzzVarint multihash:FuzzMultihash cid-binary:FuzzCIDBinary cid-string:FuzzCIDString
     multibase:FuzzMultibase dagpb:FuzzDagPB unixfs-data:FuzzUnixFSData dagcbor-links:FuzzDagCBOR
     car:FuzzCAR chunker-spec:FuzzChunkerSpec pack-record:FuzzPackRecord index-row:FuzzIndexRow
     store:FuzzStore)
wanted=("$@")

# -enable-testing: pack-record and index-row reach BlockStore's internal decoders (@testable).
build=(swift build -c release --sanitize=fuzzer -Xswiftc -enable-testing)
nice -n 19 "${build[@]}" >&2 || { echo "Error: fuzz build failed" >&2; exit 1; }
bin=$("${build[@]}" --show-bin-path)
mkdir -p .build/work .build/crashes .build/logs
status=0
printf '%-14s %14s %8s %10s %s\n' target executions seconds exec/s result
for entry in "${all[@]}"; do
    name=${entry%%:*} product=${entry#*:}
    if [ ${#wanted[@]} -gt 0 ] && [[ " ${wanted[*]} " != *" $name "* ]]; then continue; fi
    # Longest input per target: a little past the longest valid value (a varint is ≤ 10 bytes,
    # a CID or multihash with a 64-byte digest ≈ 70, its text ≈ 120 characters), so time goes
    # to inputs that can reach deep code, not to long junk; base58 decoding is quadratic.
    case $name in
        varint) max_len=16 ;;
        multihash|cid-binary) max_len=256 ;;
        cid-string|chunker-spec) max_len=512 ;;
        # pack-record: the resyncing walk parses a header at every offset; 1 KiB holds a
        # few records of small blocks, format 1 or 2, damage between them.
        multibase|store|index-row|pack-record) max_len=1024 ;;
        # car: 16 KiB holds a block at the 8 KiB limit, a v2 index and hundreds of sections;
        # the reader's buffer is 64 KiB at least, so no longer input reaches more of it.
        car) max_len=16384 ;;
        *) max_len=4096 ;;
    esac
    mkdir -p ".build/work/$name"
    log=".build/logs/$name.log"
    SWIFT_BACKTRACE=enable=no nice -n 19 "$bin/$product" ".build/work/$name" "corpus/$name" \
        -max_total_time="$seconds" -max_len=$max_len -timeout=10 -rss_limit_mb=2048 \
        ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} -print_final_stats=1 -artifact_prefix=".build/crashes/$name-" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    took=$(sed -n 's/.*Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    result=ok
    if [ $rc -ne 0 ]; then result="CRASH (see Fuzz/$log)"; status=1; fi
    rate=0; [ -n "$took" ] && [ "$took" -gt 0 ] && rate=$(( ${runs:-0} / took ))
    printf '%-14s %14s %8s %10s %s\n' "$name" "${runs:-?}" "${took:-$seconds}" "$rate" "$result"
done
exit $status
