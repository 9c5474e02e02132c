"""What the corpus generators share: writing a seed file under its SHA-1 name, and unsigned
varints (multiformats/unsigned-varint)."""
import hashlib, os

def put(out, target, data):
    """Writes `data` (bytes or text) to OUT/TARGET/<sha1 of data>."""
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)
