import BlockStore
import Engine
import Multiformats

/// The store read as Kubo's offline node reads its blockstore: a block the DAG needs and the
/// store lacks is `RPCError.notFound` (`block was not found locally (offline): ipld: could not
/// find CID`, serve.md §5.2) wherever in the DAG it is missing, for path resolution, `cat` and
/// `dag/export` alike, instead of the Engine's own words. In-place reads are passed through.
struct OfflineBlocks: BlockGetter {
    let store: BlockStore

    func block(_ cid: CID, verified: Bool) throws -> [UInt8]? {
        guard let bytes = try store.block(cid, verified: verified) else { throw RPCError.notFound(cid) }
        return bytes
    }

    func borrowedBlock(_ cid: CID) throws -> UnsafeRawBufferPointer? {
        do {
            return try store.borrowedBlock(cid)
        } catch let error as BlockStoreError where error.code == .notFound {
            throw RPCError.notFound(cid)  // and not the store's words, which name its directory
        }
    }
}
