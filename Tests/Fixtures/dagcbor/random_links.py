"""Random dag-cbor blocks and their links, from the PyPI `dag-cbor` package (reference for
Cairn's DagCBOR walker). Usage: random_links.py SEED COUNT
Prints one line per block: hex(block) then the links' binary CIDs in hex,
in the order the reference decoder meets them (its dicts keep the encoded order)."""
import hashlib
import random
import sys

import dag_cbor
from multiformats import CID, multihash


def random_cid(rng):
    digest = hashlib.sha256(rng.randbytes(8)).digest()
    mh = multihash.wrap(digest, "sha2-256")
    if rng.random() < 0.2:
        return CID("base58btc", 0, "dag-pb", mh)
    return CID("base32", 1, rng.choice(["raw", "dag-pb", "dag-cbor"]), mh)


def random_value(rng, depth):
    kind = rng.randrange(10 if depth < 6 else 6)
    if kind == 0:
        return rng.randrange(-2**63, 2**64)
    if kind == 1:
        return rng.randbytes(rng.randrange(0, 40))
    if kind == 2:
        return "".join(rng.choice("abcé✓") for _ in range(rng.randrange(0, 12)))
    if kind == 3:
        return rng.choice([True, False, None, 1.5, -0.25])
    if kind in (4, 5):
        return random_cid(rng)
    if kind in (6, 7):
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 6))]
    return {"k%d" % rng.randrange(1000): random_value(rng, depth + 1) for _ in range(rng.randrange(0, 6))}


def links(value, out):
    if isinstance(value, CID):
        out.append(value)
    elif isinstance(value, list):
        for item in value:
            links(item, out)
    elif isinstance(value, dict):
        for item in value.values():
            links(item, out)


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    for _ in range(count):
        block = dag_cbor.encode(random_value(rng, 0))
        found = []
        links(dag_cbor.decode(block), found)
        print(" ".join([block.hex()] + [bytes(cid).hex() for cid in found]))


main()
