"""pyfastcdc 0.3.1 single-core throughput over a file loaded into memory.

Usage: python pyfastcdc_throughput.py FILE RUNS MIN-AVG-MAX-NC ...
Prints `MIN-AVG-MAX-NC GIB_PER_S CHUNKS` per configuration (best of RUNS).
"""
import os
import sys
import time

# CAIRN_CPU_TIME=1: this thread's CPU time (steadier on a shared machine) instead of wall time.
clock = time.thread_time if os.environ.get("CAIRN_CPU_TIME") else time.perf_counter

from pyfastcdc import FastCDC

path, runs = sys.argv[1], int(sys.argv[2])
with open(path, "rb") as f:
    data = f.read()
for config in sys.argv[3:]:
    lo, avg, hi, level = (int(x) for x in config.split("-"))
    chunker = FastCDC(avg_size=avg, min_size=lo, max_size=hi, normalized_chunking=level)
    best, count = float("inf"), 0
    for _ in range(runs):
        start = clock()
        count = sum(1 for _ in chunker.cut_buf(data))
        best = min(best, clock() - start)
    print(f"{config} {len(data) / 2**30 / best:.3f} {count}")
