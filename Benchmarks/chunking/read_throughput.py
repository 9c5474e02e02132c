"""The cost of reading a file in fixed 262144-byte pieces (a fixed-size chunker's floor).

Usage: python read_throughput.py FILE RUNS   ->   `read-262144 GIB_PER_S CHUNKS`
"""
import sys
import time

path, runs = sys.argv[1], int(sys.argv[2])
buf = bytearray(262144)
view = memoryview(buf)
best, count, total = float("inf"), 0, 0
for _ in range(runs):
    with open(path, "rb", buffering=0) as f:
        n = t = 0
        start = time.perf_counter()
        while True:
            got = f.readinto(view)
            if not got:
                break
            n += 1
            t += got
        best = min(best, time.perf_counter() - start)
    count, total = n, t
print(f"read-262144 {total / 2**30 / best:.3f} {count}")
