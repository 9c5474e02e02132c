"""Cross-implementation helper for Tests/CARTests/CrossImplementationTests.swift.

  check_car.py decode CAR ROOT      -> prints "<bytes> <sha256 hex>" of the UnixFS file under
                                       ROOT, read with ipfs-car-decoder (which checks every
                                       block it reads against its CID)
  check_car.py pack FOLDER CAR      -> writes a CARv1 of FOLDER with aleph-cid, prints the root
"""
import asyncio
import hashlib
import sys


async def decode(path, root):
    from ipfs_car_decoder import FileByteStream, stream_bytes
    digest = hashlib.sha256()
    total = 0
    async for chunk in stream_bytes(root, FileByteStream(path)):
        digest.update(chunk)
        total += len(chunk)
    print(total, digest.hexdigest())


def main():
    if sys.argv[1] == "decode":
        asyncio.run(decode(sys.argv[2], sys.argv[3]))
    elif sys.argv[1] == "pack":
        import aleph_cid
        print(aleph_cid.write_folder_car(sys.argv[2], sys.argv[3]))
    else:
        raise SystemExit("unknown command")


if __name__ == "__main__":
    main()
