import BlockStore
import Multiformats
import NIOCore
import Synchronization

/// The gateway's read-only view of the store, opened on first use (the store may not exist
/// when the server starts). Every call that touches the disk runs on the server's own thread
/// pool (`BlockingPool`), never on an event-loop thread nor on the threads Swift concurrency
/// and `DispatchQueue.global()` share: on Linux those are as many as the cores, and a process
/// embedding the server that blocks them (a test runner's synchronous tests, say) stalled the
/// gateway's CAR streams past their clients' deadlines.
final class GatewayStore: Sendable {
    let layout: StoreLayout
    private let pool: BlockingPool
    private let opened = Mutex<BlockStore?>(nil)

    init(layout: StoreLayout, pool: BlockingPool) {
        self.layout = layout
        self.pool = pool
    }

    /// The store, or nil when there is none yet (every block is then absent).
    func store() throws -> BlockStore? {
        try opened.withLock { store in
            if let store { return store }
            do {
                let fresh = try BlockStore(layout: layout, create: false)
                store = fresh
                return fresh
            } catch let error as BlockStoreError where error.code == .noStore {
                return nil
            }
        }
    }

    /// The block's bytes, verified against its CID (identity CIDs from the CID itself); nil
    /// when absent. A block that fails verification throws.
    func block(_ cid: CID) throws -> [UInt8]? {
        if cid.multihash.code == .identity { return cid.multihash.digest }
        return try store()?.getIfPresent(cid, verify: true)
    }

    /// Appends the CAR section of `cid` (its length as a varint, the CID, the block) to
    /// `buffer`, the block read from its pack straight into `buffer` and, with `verify`,
    /// verified there (without, the caller verifies it before a byte of `buffer` is sent); the
    /// block's length, or nil when absent (nothing appended). A failed read or check throws
    /// with the section partly written: the caller drops `buffer`.
    func appendSection(_ cid: CID, to buffer: inout ByteBuffer, verify: Bool = true) throws -> Int? {
        guard let store = try store() else { return nil }
        let cidBytes = cid.bytes
        var appended: Int?
        let found = try store.readIfPresent(cid, verify: verify) { length, read in
            buffer.writeBytes(Varint.encode(UInt64(cidBytes.count + length)))
            buffer.writeBytes(cidBytes)
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
                try read(UnsafeMutableRawBufferPointer(rebasing: raw[0..<length]))
                return length
            }
            appended = length
        }
        return found ? appended : nil
    }

    /// The block's bytes, verified, in a buffer ready to send; nil when absent.
    /// The pack's bytes are read straight into the buffer, hashed there and sent from it (no
    /// intermediate array, no copy).
    func verifiedBuffer(_ cid: CID) throws -> ByteBuffer? {
        if cid.multihash.code == .identity { return ByteBuffer(bytes: cid.multihash.digest) }
        guard let store = try store() else { return nil }
        var result: ByteBuffer?
        let found = try store.readIfPresent(cid, verify: true) { length, read in
            var buffer = ByteBufferAllocator().buffer(capacity: length)
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
                try read(UnsafeMutableRawBufferPointer(rebasing: raw[0..<length]))
                return length
            }
            result = buffer
        }
        return found ? result : nil
    }

    func has(_ cid: CID) throws -> Bool {
        if cid.multihash.code == .identity { return true }
        return try store()?.has(cid) ?? false
    }

    /// Runs `body` on the server's thread pool and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable (GatewayStore) throws -> T) async throws -> T {
        try await pool.run { try body(self) }
    }
}
