#!/usr/bin/env python3
"""Writes random.tsv: multibase encodings of SplitMix64 inputs (with 0, 1 or 3 zero bytes in
front), computed by the reference Python implementation `multiformats` (PyPI 0.3.1.post4) and
cross-checked by a second implementation:

* base58btc / base58flickr: the `base58` package (PyPI 2.1.1);
* base16, base32*, base64*: `py-multibase` (PyPI 2.0.0);
* base36: `py-multibase`, only for inputs without leading zero bytes: py-multibase 2.0.0 drops
  leading zero bytes, against the multibase spec's tests/leading_zero.csv (`k02lcpzo5yikidynfl`),
  which `multiformats` matches;
* base32z: no second implementation (py-multibase packs partial groups differently and drops
  leading zeros, against tests/leading_zero.csv `hybhskh3ypiosh4jyrr`).

    python3 -m venv /tmp/venv-mf
    /tmp/venv-mf/bin/pip install multiformats==0.3.1.post4 py-multibase==2.0.0 base58==2.1.1
    /tmp/venv-mf/bin/python gen-random.py > random.tsv
"""
import base58
import multibase as pymb
from multiformats import multibase as mf

def splitmix64(seed, size):
    out = bytearray()
    state = seed
    while len(out) < size:
        state = (state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        z ^= z >> 31
        out += z.to_bytes(8, "little")
    return bytes(out[:size])

NAMES = ["base16", "base16upper", "base32", "base32upper", "base32pad", "base32padupper",
         "base32hex", "base32hexupper", "base32hexpad", "base32hexpadupper", "base32z",
         "base36", "base36upper", "base58btc", "base58flickr",
         "base64", "base64pad", "base64url", "base64urlpad"]
SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 31, 32, 33, 34, 36, 37, 64, 100, 257]
FLICKR = b"123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"

def second_opinion(name, data, zeros):
    if name == "base58btc":
        return "z" + base58.b58encode(data).decode()
    if name == "base58flickr":
        return "Z" + base58.b58encode(data, alphabet=FLICKR).decode()
    if name == "base32z" or (name.startswith("base36") and zeros > 0):
        return None
    return pymb.encode(name, data).decode()

print("# input = <zeros> 0x00 bytes + the first <size> bytes of SplitMix64(<seed>); text includes the multibase prefix")
print("zeros\tseed\tsize\tencoding\ttext")
for zeros in (0, 1, 3):
    for seed in (1, 2):
        for size in SIZES:
            data = bytes(zeros) + splitmix64(seed, size)
            for name in NAMES:
                text = mf.encode(data, name)
                assert mf.decode(text) == data
                other = second_opinion(name, data, zeros)
                assert other is None or other == text, (name, zeros, size, text, other)
                print(f"{zeros}\t{seed}\t{size}\t{name}\t{text}")
