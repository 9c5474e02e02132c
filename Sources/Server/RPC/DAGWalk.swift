import Blocks
import BlockStore
import Multiformats

/// A depth-first walk of a DAG in the store, each block once, following dag-pb and dag-cbor
/// links as Kubo's pinner fetches a graph (boxo ipld/merkledag `Walk`): what `pin/add`'s
/// progress counts and what `dag/import` checks before pinning a root. Identity CIDs hold
/// their bytes and are never missing.
enum DAGWalk {
    /// Visits the DAG under `root`; `visit` sees each distinct block present. Returns the
    /// first block found missing (the walk stops there), or nil when the DAG is complete.
    static func walk(_ root: CID, in store: BlockStore, visit: (CID, Int) -> Void = { _, _ in }) throws -> CID? {
        var seen = Set<CID>()
        var stack = [root]
        while let cid = stack.popLast() {
            guard seen.insert(cid).inserted else { continue }
            if cid.multihash.code == .identity {
                visit(cid, cid.multihash.length)
                continue
            }
            if cid.codec == .raw {
                guard let size = try store.size(of: cid) else { return cid }
                visit(cid, size)
                continue
            }
            guard let bytes = try store.getIfPresent(cid, verify: false) else { return cid }
            visit(cid, bytes.count)
            stack.append(contentsOf: try links(of: cid, bytes).reversed())
        }
        return nil
    }

    /// The first block missing under `root`, or nil when its DAG is complete.
    static func firstMissing(under root: CID, in store: BlockStore) throws -> CID? {
        try walk(root, in: store)
    }
}
