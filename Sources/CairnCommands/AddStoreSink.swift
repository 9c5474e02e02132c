import BlockStore
import Multiformats
import UnixFS
import Blocks

/// `cairn add` into the block store: one writer (the store's write lock) for the whole add,
/// each file's blocks committed durably — and its root pinned, unless `--pin=false` — before
/// its `added` line is printed.
final class AddStoreSession {
    let writer: BlockStoreWriter
    let pin: Bool
    let pinName: String?

    init(store: StoreOptions, pin: Bool, pinName: String?) throws {
        let blockStore = try store.open(create: true)
        writer = try storeCall { try blockStore.writer() }
        self.pin = pin
        self.pinName = pinName
    }

    /// Makes the file's blocks durable and pins its root, in one transaction.
    func commit(root: CID, pinning: Bool = true) throws {
        try storeCall {
            if pin && pinning {
                try writer.commit(pinning: root, recursive: true, name: pinName, checkDAG: false)
            } else {
                try writer.commit()
            }
        }
    }

    func close() throws {
        try storeCall { try writer.close() }
    }

    func abandon() { writer.abandon() }
}

/// The `BlockSink` the importer writes to: every block goes to the store writer.
struct AddStoreSink: BlockSink {
    let writer: BlockStoreWriter

    var wantsBytes: Bool { true }

    mutating func put(_ cid: CID, _ bytes: BlockBytes) throws {
        try writer.put(cid, bytes)
    }
}
