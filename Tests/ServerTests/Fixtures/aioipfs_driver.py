"""Drives `cairn serve`'s Kubo RPC with the real client aioipfs (PyPI, 0.7.x), the way an
application would, and prints what it observed as one JSON object on stdout. The Swift test
(RPCClientTests) checks the values against the shared vectors and real Kubo.

usage: python aioipfs_driver.py PORT WORKDIR
WORKDIR holds block.bin (one block), file.bin (a file), tree/ (a directory) and fixture.car.
"""
import asyncio
import hashlib
import json
import os
import sys

import aioipfs


async def collect(generator):
    return [item async for item in generator]


async def main(port, work):
    out = {}
    client = aioipfs.AsyncIPFS(host="127.0.0.1", port=port)
    try:
        out["version"] = await client.core.version()
        out["agent_version"] = str(await client.agent_version_get())

        put = await client.block.put(os.path.join(work, "block.bin"), cid_codec="raw")
        out["block_put"] = put
        out["block_stat"] = await client.block.stat(put["Key"])
        out["block_get_sha256"] = hashlib.sha256(await client.block.get(put["Key"])).hexdigest()

        # aioipfs reads dag/import's answer as one JSON value (so without stats=true).
        out["car_import"] = await client.dag.car_import(os.path.join(work, "fixture.car"))
        root = out["car_import"]["Root"]["Cid"]["/"]
        exported = await client.dag.car_export(root)
        with open(os.path.join(work, "exported.car"), "wb") as handle:
            handle.write(exported)

        out["pin_add"] = await collect(client.pin.add(put["Key"], name="layer-cache-v1"))
        out["pin_ls"] = await client.pin.ls(pintype="all", names=True)
        out["pin_rm"] = await client.pin.rm(put["Key"])
        out["pin_ls_after"] = await client.pin.ls(pintype="recursive", names=True)

        out["add_file"] = await collect(client.core.add(os.path.join(work, "file.bin")))
        out["add_file_v1"] = await collect(client.core.add(os.path.join(work, "file.bin"), cid_version=1))
        out["add_tree"] = await collect(client.core.add(os.path.join(work, "tree"), recursive=True))
        file_root = out["add_file"][-1]["Hash"]
        out["cat_sha256"] = hashlib.sha256(await client.core.cat(file_root)).hexdigest()
        out["cat_range_sha256"] = hashlib.sha256(await client.core.cat(file_root, offset=1000, length=5000)).hexdigest()
        # An IPFS path below a root, as Kubo's cat takes one.
        tree_root = out["add_tree"][-1]["Hash"]
        out["cat_path_sha256"] = hashlib.sha256(await client.core.cat(f"/ipfs/{tree_root}/sub/b.bin")).hexdigest()
    finally:
        await client.close()
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
