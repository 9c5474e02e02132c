#!/usr/bin/env python3
"""Builds the seed corpora in Fuzz/corpus/<target>/ from the shared vectors and the test
fixtures (run once; the output is committed). Usage: make-corpus.py SHARED_VECTORS REPO_ROOT"""
import base64, hashlib, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_files
from corpus_files import varint

shared, repo = sys.argv[1], sys.argv[2]
out = os.path.join(repo, "Fuzz", "corpus")

def put(target, data):
    corpus_files.put(out, target, data)
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58decode(s):
    n = 0
    for c in s:
        n = n * 58 + B58.index(c)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\0" * (len(s) - len(s.lstrip("1"))) + raw

def cid_bytes(text):
    if text.startswith("Qm"):
        return b58decode(text)
    assert text[0] == "b"
    body = text[1:].upper()
    return base64.b32decode(body + "=" * (-len(body) % 8))


def read_varint(b, i):
    n = shift = 0
    while True:
        n |= (b[i] & 0x7F) << shift
        i += 1
        if not b[i - 1] & 0x80:
            return n, i
        shift += 7

def pb_data(block):
    """The Data field (1) of a dag-pb node, or None."""
    i = 0
    while i < len(block):
        key, i = read_varint(block, i)
        length, i = read_varint(block, i)
        if key >> 3 == 1:
            return block[i:i + length]
        i += length
    return None

# CIDs: the shared vectors' roots and block CIDs.
cids = set()
with open(os.path.join(shared, "cids.tsv")) as f:
    next(f)
    for line in f:
        cids.add(line.split("\t")[2])
blocks = []
for name in sorted(os.listdir(os.path.join(shared, "blocks"))):
    with open(os.path.join(shared, "blocks", name)) as f:
        lines = f.read().split("\n")
    cids.add(lines[0].strip())
    for line in lines[1:]:
        parts = line.split()
        if len(parts) == 3 and all(c in "0123456789abcdef" for c in parts[2]):
            cids.add(parts[0])
            blocks.append((parts[0], bytes.fromhex(parts[2])))
for text in sorted(cids)[:60]:
    put("cid-string", text)
    binary = cid_bytes(text)
    put("cid-binary", binary)
    put("multihash", binary[2:] if text.startswith("Qm") else binary[2:] if binary[1] < 0x80 else binary[3:])
for text in ["bafkqaaa", "zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA", "mAXASIBc0bK0D8VvSZ8mIrHqa3dvmKzWLaZ9I/Ww6LZGNRhTq",
             "k2jmtxu0v7ytipi36z2kmfb1l8x7mgbyzuyddg4wyihb1gxrnodmxaeg", "F01701220C3C4733EC8AFFD06CF9E9FF50FFC6BCD2EC85A6170004BB709669C31DE94391A"]:
    put("cid-string", text)
for v in [0, 1, 127, 128, 255, 300, 16384, 2**32, 2**63 - 1]:
    put("varint", varint(v))
put("varint", b"\x80\x00")
put("varint", b"\xff" * 9)

# Multibase: the multiformats test vectors (text column).
mf = os.path.join(repo, "Tests", "Fixtures", "multiformats")
for name in ["basic.csv", "leading_zero.csv", "two_leading_zeros.csv", "test1.csv", "test3.csv", "test6.csv"]:
    with open(os.path.join(mf, name)) as f:
        for line in f:
            if "," in line and not line.startswith("encoding"):
                put("multibase", line.split(",", 1)[1].strip().strip('"'))
with open(os.path.join(mf, "random.tsv")) as f:
    rows = [l.rstrip("\n").split("\t") for l in f if not l.startswith("#") and not l.startswith("zeros")]
for row in rows[:80]:
    if len(row) == 5 and len(row[4]) < 512:
        put("multibase", row[4])

# dag-pb blocks and their UnixFS Data, small ones only.
for cid, block in blocks:
    if (cid.startswith("Qm") or cid.startswith("bafy")) and len(block) <= 8192:
        put("dagpb", block)
        data = pb_data(block)
        if data is not None and len(data) <= 8192:
            put("unixfs-data", data)
for data in [b"\x08\x01", b"\x08\x02\x18\x00", b"\x08\x05\x28\x22\x30\x80\x02", b"\x08\x01\x38\xa4\x03\x42\x06\x08\x80\xa3\x05\x15\x01\x00\x00\x00"]:
    put("unixfs-data", data)

# dag-cbor: a map with one link, a list of two, nested maps; the go-car fixture's root block.
link = lambda cid: b"\xd8\x2a\x58" + bytes([len(cid) + 1]) + b"\x00" + cid
c1 = cid_bytes("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
c2 = cid_bytes(sorted(c for c in cids if c.startswith("bafy"))[0])
put("dagcbor-links", b"\xa1\x64link" + link(c1))
put("dagcbor-links", b"\x82" + link(c1) + link(c2))
put("dagcbor-links", b"\xa2\x61a\xa1\x61b" + link(c2) + b"\x61c\x83\x01\xf5\xf6")
put("dagcbor-links", b"\xa1\x61x\x9f\x01\xff")

# CARs: the go-car fixtures and the small gateway-conformance CARs.
car = os.path.join(repo, "Tests", "Fixtures", "car")
for name in ["go-car-v1-dfs.hex", "go-car-v2-indexsorted.hex"]:
    with open(os.path.join(car, name)) as f:
        put("car", bytes.fromhex("".join(f.read().split())))
gw = os.path.join(shared, "gateway-conformance")
for name in sorted(os.listdir(gw)):
    path = os.path.join(gw, name)
    if name.endswith(".car") and os.path.getsize(path) <= 4096:
        with open(path, "rb") as f:
            put("car", f.read())

# Chunker specs: every spec of the shared chunk vectors, and the forms spec/chunking.md lists.
with open(os.path.join(shared, "chunks.tsv")) as f:
    next(f)
    specs = {line.split("\t")[1] for line in f}
for spec in sorted(specs) + ["", "default", "size-1", "rabin-min:16-avg:32-max:64", "fastcdc", "fastcdc-1024",
                             "fastcdc-64-256-1024-3"]:
    put("chunker-spec", spec)

# Store: row selector, flags, then field values (see FuzzStore.swift).
for seed in [b"\x00\x00", b"\x01\x01\x20", b"\x02\x02\x0a", b"\x00\x04\xe0\x01\x02", b"\x01\x08\x40",
             b"\x02\x10\x04\x01\x55\x12\x20", b"\x00\x20\x03\x41", b"\x01\x40\x00\x10", b"\x02\x00extra bytes"]:
    put("store", seed)
