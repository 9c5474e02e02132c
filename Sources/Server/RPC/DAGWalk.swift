import Blocks
import BlockStore
import CAR
import Multiformats

/// A depth-first walk of a DAG in the store, each block once, following dag-pb and dag-cbor
/// links as Kubo's pinner fetches a graph (boxo ipld/merkledag `Walk`): what `pin/add`'s
/// progress counts and what `dag/import` checks before pinning a root. Identity CIDs hold
/// their bytes and are never missing; the blocks they link to are walked like any other.
enum DAGWalk {
    /// Visits the DAG under `root`; `visit` sees each distinct block present. Returns the
    /// first block found missing (the walk stops there), or nil when the DAG is complete.
    ///
    /// The blocks seen are a spilling key set (constant memory; a `Set<CID>` took ~200 bytes a
    /// block). Raw leaves are looked up together, up to 4096 in one read transaction, and
    /// always before the walk reads the next block with links, so the block reported missing
    /// is still the first in depth-first order: one lookup (a read transaction of its own)
    /// per leaf was most of the check's time after an import of many small blocks.
    static func walk(_ root: CID, in store: BlockStore, visit: (CID, Int) -> Void = { _, _ in }) throws -> CID? {
        let seen = SpillingCIDSet()
        var stack = [root]
        var leaves: [CID] = []
        /// The first of `leaves` missing, after visiting those before it.
        func checkLeaves() throws -> CID? {
            guard !leaves.isEmpty else { return nil }
            defer { leaves.removeAll(keepingCapacity: true) }
            for (cid, location) in zip(leaves, try store.locations(of: leaves)) {
                guard let location else { return cid }
                visit(cid, location.length)
            }
            return nil
        }
        while let cid = stack.popLast() {
            guard try seen.insert(cid) else { continue }
            if cid.multihash.code == .identity {
                // Its block is its CID, never missing; what it links to is part of the DAG, as
                // for Kubo's pinner (the block service answers identity CIDs from the CID).
                visit(cid, cid.multihash.length)
                stack.append(contentsOf: try links(of: cid, cid.multihash.digest).reversed())
                continue
            }
            if cid.codec == .raw {
                leaves.append(cid)
                if leaves.count == 4096, let missing = try checkLeaves() { return missing }
                continue
            }
            if let missing = try checkLeaves() { return missing }
            guard let bytes = try store.getIfPresent(cid, verify: false) else { return cid }
            visit(cid, bytes.count)
            stack.append(contentsOf: try links(of: cid, bytes).reversed())
        }
        return try checkLeaves()
    }

    /// The first block missing under `root`, or nil when its DAG is complete.
    static func firstMissing(under root: CID, in store: BlockStore) throws -> CID? {
        try walk(root, in: store)
    }
}
