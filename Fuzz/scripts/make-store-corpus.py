#!/usr/bin/env python3
"""Builds the seed corpora of the store's decoders, Fuzz/corpus/pack-record/ and
Fuzz/corpus/index-row/ (run once; the output is committed). The packs and rows come from a real
store written by `cairn` (the code path itself), then a few variants: format 1 (the same
records without the header checksum), a flipped byte, a torn tail, an identity-CID record;
rows as the index holds them and damaged ones (NULL, text, real, negative, huge).
Usage: make-store-corpus.py CAIRN_BINARY REPO_ROOT"""
import hashlib, os, sqlite3, struct, subprocess, sys, tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_files
from corpus_files import varint

cairn, repo = sys.argv[1], sys.argv[2]
out = os.path.join(repo, "Fuzz", "corpus")

def put(target, data):
    corpus_files.put(out, target, data)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def record(version, cid, block):
    length = struct.pack("<I", len(cid) + len(block))
    if version == 1:
        return length + cid + block
    return length + struct.pack("<I", crc32c(length + cid)) + cid + block

def header(version):
    return b"CAIRNPK" + bytes([version]) + bytes(8)

with tempfile.TemporaryDirectory() as tmp:
    store = os.path.join(tmp, "store")
    env = dict(os.environ, CAIRN_HOME=store)
    files = []
    for name, data in [("a", b"hello world\n"), ("b", bytes(range(256)) * 3), ("c", b"x" * 700)]:
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        files.append(path)
    run = lambda *args: subprocess.run([cairn, *args], env=env, check=True, capture_output=True)
    run("add", "--chunker", "size-256", files[1])                   # dag-pb root over 3 leaves, CIDv0
    run("add", "--cid-version", "1", "--chunker", "size-300", files[2])  # raw leaves, CIDv1
    run("add", files[0])                                             # one small dag-pb block
    run("pin", "add", "--name", "seed", run("add", "-q", "--cid-version", "1", files[0]).stdout.decode().strip())
    packs = sorted(os.listdir(os.path.join(store, "packs")))
    db = sqlite3.connect(os.path.join(store, "index.sqlite"))
    rows = db.execute("SELECT mh, codec, version, pack, offset, length FROM blocks ORDER BY pack, offset").fetchall()
    pins = db.execute("SELECT cid, name, recursive FROM pins").fetchall()

    # pack-record: the real pack, then variants rebuilt from its records.
    pack = open(os.path.join(store, "packs", packs[0]), "rb").read()
    put("pack-record", pack)
    recs = []
    for mh, codec, version, _, offset, length in rows:
        cid = mh if version == 0 else varint(1) + varint(codec) + mh
        assert pack[offset - len(cid):offset] == cid
        recs.append((cid, pack[offset:offset + length]))
    small = [r for r in recs if len(r[1]) <= 300][:4]
    for version in (1, 2):
        body = b"".join(record(version, c, b) for c, b in small)
        put("pack-record", header(version) + body)
        put("pack-record", header(version) + body + record(version, *small[0])[:20])  # torn tail
        flipped = bytearray(header(version) + body)
        flipped[16 + len(record(version, *small[0])) + 12] ^= 0x40                        # damage record 2
        put("pack-record", bytes(flipped))
    ident = b"inline"
    put("pack-record", header(2) + record(2, varint(1) + varint(0x55) + b"\x00" + varint(len(ident)) + ident, ident)
        + record(2, *small[1]))
    put("pack-record", header(2))

    # index-row: byte 0 even = blocks row, odd = pins row; values: type byte (0 NULL, 1 integer
    # as zigzag LEB128, 2 real as 8 bytes, 3 text, 4 blob: length byte and bytes).
    def zigzag(n):
        return varint(n << 1 if n >= 0 else (-n << 1) - 1)
    def value(v):
        if v is None: return b"\x00"
        if isinstance(v, int): return b"\x01" + zigzag(v)
        if isinstance(v, float): return b"\x02" + struct.pack("<d", v)
        if isinstance(v, str): return b"\x03" + bytes([len(v.encode())]) + v.encode()
        return b"\x04" + bytes([len(v)]) + bytes(v)
    for row in rows[:6]:
        put("index-row", b"\x00" + b"".join(value(v) for v in (row[0], *row[1:])))
    mh, codec, version, p, offset, length = rows[0]
    for damaged in [(mh, codec, version, p, offset, -5), (mh, codec, version, p, offset, None),
                    (mh, codec, version, p, "16", length), (mh, codec, 2, p, offset, length),
                    (mh, codec, version, 0, offset, length), (mh, codec, version, p, offset, 2 ** 62),
                    (mh, float(codec), version, p, offset, length), (mh[:5], codec, version, p, offset, length),
                    (None, codec, version, p, offset, length)]:
        put("index-row", b"\x00" + b"".join(value(v) for v in damaged))
    for cid, name, recursive in pins:
        put("index-row", b"\x01" + value(cid) + value(name) + value(recursive))
        put("index-row", b"\x01" + value(cid) + value(None) + value(2))
