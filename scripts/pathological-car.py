#!/usr/bin/env python3
"""Writes a pathological CARv1 for memory measurements (issue 15, item 14).

  pathological-car.py tiny N OUT   N raw blocks of 16 bytes each (CIDv1 raw sha2-256), root = the first
  pathological-car.py roots N OUT  a header of N identity roots (36 bytes each) and one identity block
  pathological-car.py chain N OUT  a CARv2: N dag-pb nodes of one link each (a chain down to one raw
                                   block; root = the top node), with a MultihashIndexSorted index
                                   (the link map of --complete and the index check both hold N entries)

Measure with: /usr/bin/time -f %M cairn car verify [--complete] OUT (peak RSS in KiB), or
cairn --store S car import OUT. Standard library only; the bytes are fixed by N.
"""
import hashlib
import struct
import sys


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def header(roots_bytes, count):
    # dag-cbor {"roots": [...], "version": 1}, keys in length-then-bytes order.
    if count < 24:
        array = bytes([0x80 + count])
    elif count < 1 << 8:
        array = b"\x98" + bytes([count])
    elif count < 1 << 16:
        array = b"\x99" + struct.pack(">H", count)
    else:
        array = b"\x9a" + struct.pack(">I", count)
    head = b"\xa2\x65roots" + array + roots_bytes + b"\x67version\x01"
    return varint(len(head)) + head


def tiny(n, out):
    with open(out, "wb") as f:
        first = None
        body = bytearray()
        for i in range(n):
            data = struct.pack(">QQ", i, 0x636169726E)  # 16 bytes, distinct per block
            cid = b"\x01\x55\x12\x20" + hashlib.sha256(data).digest()
            if first is None:
                first = cid
                root = b"\xd8\x2a\x58" + bytes([len(cid) + 1]) + b"\x00" + cid
                f.write(header(root, 1))
            body += varint(len(cid) + len(data)) + cid + data
            if len(body) >= 1 << 20:
                f.write(body)
                body.clear()
        f.write(body)


def roots(n, out):
    with open(out, "wb") as f:
        parts = bytearray()
        for i in range(n):
            # tag 42, bytes(32): 0x00, CIDv1 raw identity of 27 bytes (36 header bytes a root,
            # so 900 000 roots make a 31 MiB header, the size of the example).
            parts += b"\xd8\x2a\x58\x20\x00\x01\x55\x00\x1b" + struct.pack(">I", i) + bytes(23)
        f.write(header(bytes(parts), n))
        block = b"\x01\x55\x00\x04" + struct.pack(">I", 7) * 2  # identity CID, then its 4 data bytes
        f.write(varint(len(block)) + block)


def chain(n, out):
    # dag-pb PBNode with one PBLink holding only its Hash (field 2 of the node, field 1 of the
    # link); the bottom node links to a raw block. Sections go top first, so the root is first.
    leaf = struct.pack(">Q", n)
    child = b"\x01\x55\x12\x20" + hashlib.sha256(leaf).digest()
    sections = [(child, leaf)]
    for i in range(n):
        link = b"\x0a" + varint(len(child)) + child
        node = b"\x12" + varint(len(link)) + link
        cid = b"\x01\x70\x12\x20" + hashlib.sha256(node).digest()
        sections.append((cid, node))
        child = cid
    sections.reverse()
    root = b"\xd8\x2a\x58" + bytes([len(child) + 1]) + b"\x00" + child
    payload = bytearray(header(root, 1))
    entries = []
    for cid, data in sections:
        entries.append((cid[4:], len(payload)))
        payload += varint(len(cid) + len(data)) + cid + data
    entries.sort()
    # MultihashIndexSorted (0x0401): one code bucket (sha2-256), one width bucket (32 + 8).
    index = varint(0x0401) + struct.pack("<I", 1) + struct.pack("<Q", 0x12) + struct.pack("<I", 1)
    index += struct.pack("<IQ", 40, 40 * len(entries))
    index += b"".join(digest + struct.pack("<Q", offset) for digest, offset in entries)
    pragma = bytes.fromhex("0aa16776657273696f6e02")
    data_offset = len(pragma) + 40
    with open(out, "wb") as f:
        f.write(pragma + bytes(16) + struct.pack("<QQQ", data_offset, len(payload), data_offset + len(payload)))
        f.write(payload)
        f.write(index)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("tiny", "roots", "chain"):
        sys.exit("usage: pathological-car.py tiny|roots|chain N OUT")
    {"tiny": tiny, "roots": roots, "chain": chain}[sys.argv[1]](int(sys.argv[2]), sys.argv[3])
