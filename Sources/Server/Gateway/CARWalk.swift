import Blocks
import CAR
import Hashing
import Multiformats
import NIOCore

/// The blocks of a CAR response, in depth-first order (spec/gateway.md §3.2), produced a batch
/// at a time: the path blocks, then the terminal entity as `dag-scope` and `entity-bytes` say.
/// Only CIDs are held between batches (the pending stack, and the CIDs sent when duplicates
/// are left out); every block is read from the store and verified when its turn comes.
/// Used by one task at a time (the response body writer), hence `@unchecked Sendable`.
final class CARWalk: @unchecked Sendable {
    private enum Step {
        /// Send this block only.
        case block(CID)
        /// The block and everything it links to, recursively (any codec).
        case all(CID)
        /// The terminal entity: a file whole (or its `entity-bytes`), a directory's own block,
        /// a HAMT's shards, any other block alone.
        case entity(CID)
        /// A file node starting at byte `start` of the file: it and its children that overlap `range`.
        case file(CID, start: UInt64, range: ClosedRange<UInt64>)
        /// A HAMT shard and its sub-shards (not the entries).
        case shard(CID)
    }

    private var stack: [Step]
    /// The CIDs sent (only when duplicates are left out), in bounded memory: a CAR of
    /// millions of blocks keeps them on disk past `SpillingKeySet.defaultMemoryLimit`.
    private let sent = SpillingCIDSet(memoryLimit: SpillingKeySet.defaultMemoryLimit)  // per request: the server's budget
    private let duplicates: Bool
    private let entityBytes: EntityBytes?

    init(_ path: ResolvedPath, scope: DAGScope, entityBytes: EntityBytes?, duplicates: Bool) {
        self.duplicates = duplicates
        self.entityBytes = entityBytes
        let terminal: Step
        switch scope {
        case .block: terminal = .block(path.terminal)
        case .entity: terminal = .entity(path.terminal)
        case .all: terminal = .all(path.terminal)
        }
        stack = [terminal] + path.blocks.reversed().map { Step.block($0) }
    }

    /// The most blocks in one batch: a batch of tiny blocks stays small to read and hash (and
    /// its per-block entries few), so a stream notices a closed connection soon.
    static let maxBatchBlocks = 4096
    /// The most steps one `read` takes: a DAG whose steps mostly send nothing (blocks met
    /// again, with duplicates left out) still hands control back between batches.
    static let maxBatchSteps = 1 << 16

    /// Whether every block has been read (nothing is left to walk).
    var finished: Bool { stack.isEmpty }

    /// Appends the next blocks (about `budget` bytes of them, at most `maxBatchBlocks`) to `buffer` as CAR
    /// sections, each read from its pack straight into `buffer` (no array per block), and
    /// returns where each lies in `buffer`, unverified: the caller checks them together
    /// (`BatchCheck`) before any byte of `buffer` is sent, possibly while the next batch is
    /// read. Links are followed before that check, which is safe because a batch with one bad
    /// block is never sent. Empty at the end (`finished`), with nothing appended, and possibly
    /// before it when `maxBatchSteps` steps sent nothing. A missing block throws: the response
    /// is then cut short (the caller drops `buffer`).
    func read(_ store: GatewayStore, budget: Int = 1 << 18, into buffer: inout ByteBuffer) throws -> [(cid: CID, offset: Int, length: Int)] {
        var bytes = 0
        var steps = 0
        var unverified: [(cid: CID, offset: Int, length: Int)] = []
        while bytes < budget, unverified.count < Self.maxBatchBlocks, steps < Self.maxBatchSteps, let step = stack.popLast() {
            steps += 1
            let cid: CID
            switch step {
            case let .block(c), let .all(c), let .entity(c), let .file(c, _, _), let .shard(c): cid = c
            }
            if cid.multihash.code == .identity {
                // Never sent as a block (its CID holds it), but what it links to is walked.
                try cid.multihash.digest.withUnsafeBytes { try expand(step, cid, $0, store) }
                continue
            }
            let repeated = duplicates ? false : try sent.contains(cid)
            if case .all = step, repeated, !duplicates { continue }  // its whole DAG went out already
            if duplicates || !repeated {
                guard let length = try store.appendSection(cid, to: &buffer, verify: false) else {
                    throw GatewayError(502, "block \(cid) is missing from the store")
                }
                bytes += length
                if !duplicates { _ = try sent.insert(cid) }
                unverified.append((cid, buffer.writerIndex - buffer.readerIndex - length, length))
                try buffer.withUnsafeReadableBytes { readable in
                    try expand(step, cid, UnsafeRawBufferPointer(rebasing: readable[(readable.count - length)...]), store)
                }
            } else {
                // Sent before, needed again for its links only (a block and its repeat in one DAG).
                guard let block = try store.block(cid) else {
                    throw GatewayError(502, "block \(cid) is missing from the store")
                }
                try block.withUnsafeBytes { try expand(step, cid, $0, store) }
            }
        }
        return unverified
    }

    /// Pushes what follows `cid` for `step`. Raw blocks (a file's leaves, most of the bytes)
    /// are looked at where they lie; a dag-pb node is copied for its decoder.
    private func expand(_ step: Step, _ cid: CID, _ block: UnsafeRawBufferPointer, _ store: GatewayStore) throws {
        switch step {
        case .block:
            return
        case .all:
            for link in try links(of: cid, block).reversed() { stack.append(.all(link)) }
        case .shard:
            try pushShards(cid, Array(block), store)
        case .entity:
            guard cid.codec == .dagPB else { return }
            let (node, data) = try store.unixFS(cid, Array(block))
            switch data.type {
            case .file, .raw:
                guard let size = data.declaredSize else { throw GatewayError.oversized(cid) }
                guard let range = (entityBytes ?? EntityBytes("0:*")!).resolve(size: size) else { return }
                try pushChildren(cid, node, data, start: 0, range: range)
            case .hamtShard:
                try pushShards(cid, Array(block), store)
            default:
                return
            }
        case let .file(_, start, range):
            guard cid.codec == .dagPB else { return }
            let (node, data) = try store.unixFS(cid, Array(block))
            try pushChildren(cid, node, data, start: start, range: range)
        }
    }

    /// Pushes the children of a file node that overlap `range` (children start after the
    /// node's own data, each `blockSizes[i]` long). Block sizes that run past `Int64.max` are
    /// a malformed node (502), never arithmetic that traps.
    private func pushChildren(_ cid: CID, _ node: PBNode, _ data: UnixFSData, start: UInt64, range: ClosedRange<UInt64>) throws {
        func advance(_ offset: UInt64, by size: UInt64) throws -> UInt64 {
            let (end, overflow) = offset.addingReportingOverflow(size)
            guard !overflow, end <= UInt64(Int64.max) else { throw GatewayError.oversized(cid) }
            return end
        }
        var offset = try advance(start, by: UInt64(data.data?.count ?? 0))
        var children: [Step] = []
        for (link, size) in zip(node.links, data.blockSizes) {
            let end = try advance(offset, by: size)
            if size > 0, offset <= range.upperBound, end - 1 >= range.lowerBound {
                children.append(.file(link.hash, start: offset, range: range))
            }
            offset = end
        }
        stack.append(contentsOf: children.reversed())
    }

    /// Pushes the sub-shards of a HAMT shard (links named by their bucket prefix only).
    private func pushShards(_ cid: CID, _ block: [UInt8], _ store: GatewayStore) throws {
        let (node, data) = try store.unixFS(cid, block)
        guard let fanout = data.fanout, fanout >= 2 else { return }
        let width = String(fanout - 1, radix: 16).count
        for link in node.links.reversed() where link.name?.count == width { stack.append(.shard(link.hash)) }
    }
}

/// The check of a batch's blocks, read unverified by `CARWalk.read`: all together, grouped by
/// hash function, on the multi-buffer kernels and every core (a 1 GiB CAR went at 0.68 GiB/s
/// when each block was hashed alone, one at a time, by the thread that read it). Used by one
/// batch at a time, in turn (the response's pipeline awaits each check before the next),
/// hence `@unchecked Sendable`.
final class BatchCheck: @unchecked Sendable {
    private var verifier = BlockVerifier()

    func verify(_ blocks: [(cid: CID, offset: Int, length: Int)], in buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { try verifier.verify(blocks, in: $0) }
    }
}
