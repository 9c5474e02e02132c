"""pyfastcdc 0.3.1 single-core throughput over a file loaded into memory.

Usage: python pyfastcdc_throughput.py FILE RUNS MIN-AVG-MAX-NC ...
Prints `MIN-AVG-MAX-NC GIB_PER_S CHUNKS` per configuration (best of RUNS).
"""
import sys
import time

from pyfastcdc import FastCDC

path, runs = sys.argv[1], int(sys.argv[2])
with open(path, "rb") as f:
    data = f.read()
for config in sys.argv[3:]:
    lo, avg, hi, level = (int(x) for x in config.split("-"))
    chunker = FastCDC(avg_size=avg, min_size=lo, max_size=hi, normalized_chunking=level)
    best, count = float("inf"), 0
    for _ in range(runs):
        start = time.perf_counter()
        count = sum(1 for _ in chunker.cut_buf(data))
        best = min(best, time.perf_counter() - start)
    print(f"{config} {len(data) / 2**30 / best:.3f} {count}")
