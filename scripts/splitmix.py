#!/usr/bin/env python3
"""Write SIZE bytes of SplitMix64 (seed SEED) to PATH: the generator of shared/vectors/README.md.

usage: splitmix.py SEED SIZE PATH
"""
import struct
import sys

MASK = (1 << 64) - 1


def main():
    seed, size, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    state = seed
    with open(path, "wb") as out:
        remaining = size
        while remaining > 0:
            words = []
            for _ in range(min(8192, (remaining + 7) // 8)):
                state = (state + 0x9E3779B97F4A7C15) & MASK
                z = state
                z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
                z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
                words.append(z ^ (z >> 31))
            block = struct.pack("<%dQ" % len(words), *words)[:remaining]
            out.write(block)
            remaining -= len(block)


if __name__ == "__main__":
    main()
