import BlockStore
import Foundation
import Multiformats
import NIOCore
import Synchronization

/// Raw blocks the gateway has read from the store and verified, kept in memory (at most
/// `capacity` bytes, oldest out first) so that a block asked for again is sent from the very
/// buffer that was hashed, without a store lookup, a read or a hash (spec/gateway.md §5.1).
///
/// A CID names one byte string, so a cached buffer can never be the wrong bytes; what can
/// change is whether the store still *has* the block. Every entry belongs to the index state
/// it was read under: the count of the server's own writes and the file-system stamps of the
/// index and its WAL (for writers in other processes). When either has moved, the whole cache
/// is dropped before it answers.
final class VerifiedBlocks: Sendable {
    /// What identifies the index's state without reading it.
    struct Generation: Hashable, Sendable {
        var writes: UInt64
        var index: FileStamp
        var log: FileStamp
    }

    struct FileStamp: Hashable, Sendable {
        var inode: UInt64 = 0, size: Int64 = -1, seconds = 0, nanoseconds = 0

        init(_ path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return }
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            seconds = info.st_mtim.tv_sec
            nanoseconds = info.st_mtim.tv_nsec
        }
    }

    private struct Contents {
        var generation: Generation?
        var blocks: [CID: ByteBuffer] = [:]
        var order: [CID] = []
        var oldest = 0
        var bytes = 0

        mutating func evict() {
            let cid = order[oldest]
            oldest += 1
            bytes -= blocks.removeValue(forKey: cid)?.readableBytes ?? 0
            if oldest > 64 && oldest * 2 > order.count {
                order.removeFirst(oldest)
                oldest = 0
            }
        }
    }

    let capacity: Int
    private let indexPath: String
    private let logPath: String
    private let contents = Mutex(Contents())

    init(layout: StoreLayout, capacity: Int) {
        self.capacity = capacity
        indexPath = layout.databasePath
        logPath = layout.databasePath + "-wal"
    }

    /// The index's state now, given the server's own count of writes.
    func generation(writes: UInt64) -> Generation {
        Generation(writes: writes, index: FileStamp(indexPath), log: FileStamp(logPath))
    }

    /// The verified bytes of `cid` if they are cached under `generation`; a cache from an
    /// older generation is dropped first.
    func block(_ cid: CID, at generation: Generation) -> ByteBuffer? {
        guard capacity > 0 else { return nil }
        return contents.withLock { contents in
            if contents.generation != generation { contents = Contents(generation: generation) }
            return contents.blocks[cid]
        }
    }

    /// Keeps verified bytes read under `generation` (observed before the store lookup), unless
    /// the index has moved on since or the block is over an eighth of the capacity.
    func insert(_ cid: CID, _ bytes: ByteBuffer, at generation: Generation) {
        let size = bytes.readableBytes
        guard capacity > 0, size <= capacity / 8 else { return }
        contents.withLock { contents in
            guard contents.generation == generation, contents.blocks[cid] == nil else { return }
            while contents.bytes + size > capacity { contents.evict() }
            contents.blocks[cid] = bytes
            contents.order.append(cid)
            contents.bytes += size
        }
    }
}
