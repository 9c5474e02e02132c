import BlockStore
import Multiformats
import Blocks

/// An add into the block store: one writer (the store's write lock) for the whole add, each
/// input's blocks committed durably — and its root pinned, unless `pin` is false — before its
/// events are delivered.
final class AddStoreSession {
    let writer: BlockStoreWriter
    let pin: Bool
    let pinName: String?

    init(store: BlockStore, pin: Bool, pinName: String?) throws {
        writer = try store.writer()
        self.pin = pin
        self.pinName = pinName
    }

    /// Makes the input's blocks durable and pins its root, in one transaction.
    func commit(root: CID, pinning: Bool = true) throws {
        if pin && pinning {
            try writer.commit(pinning: root, recursive: true, name: pinName, checkDAG: false)
        } else {
            try writer.commit()
        }
    }

    func close() throws {
        try writer.close()
    }

    func abandon() { writer.abandon() }
}

/// The `BlockSink` the importer writes to: every block goes to the store writer.
public struct AddStoreSink: BlockSink {
    let writer: BlockStoreWriter

    public var wantsBytes: Bool { true }

    public mutating func put(_ cid: CID, _ bytes: BlockBytes) throws {
        try writer.put(cid, bytes)
    }
}
