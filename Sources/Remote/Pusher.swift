public import Multiformats
public import BlockStore
import Blocks
import CAR
import Engine
import Foundation

/// What a push found and did (spec/remote.md §5).
public struct PushSummary: Hashable, Sendable {
    public var root: CID
    public var dagBlocks = 0
    public var dagBytes: UInt64 = 0
    public var presentBlocks = 0
    public var presentBytes: UInt64 = 0
    public var uploadedBlocks = 0
    public var uploadedBytes: UInt64 = 0
    /// Whether a recursive pin of the root on the remote answered for the whole DAG.
    public var rootPinned = false
    public var seconds = 0.0

    public init(root: CID) { self.root = root }
}

/// Push: walk the DAG in the local store, ask the remote which blocks it holds, upload only
/// the others, pin. Rerunning after an interruption sends only what is still missing.
public struct Pusher: Sendable {
    public var pinName: String?
    public var replace = false
    public var dryRun = false
    /// The most blocks the remote may list for its listing to answer the existence check
    /// (nil: 4 × the DAG's blocks, at least 65 536; 0: never list, ask block by block).
    public var listingLimit: Int?
    /// Called with (blocks checked or uploaded so far, total) as the push proceeds.
    public var progress: (@Sendable (String, Int, Int) -> Void)?

    public init() {}

    public func push(_ root: CID, from store: BlockStore, to remote: any RemoteBlockHolder) async throws -> PushSummary {
        let clock = ContinuousClock.now
        var summary = PushSummary(root: root)
        var dag = try Self.walk(root, in: store)
        if !dryRun { try await remote.checkCanPin(name: pinName) }  // before any byte is sent
        summary.dagBlocks = dag.cids.count
        summary.dagBytes = dag.sizes.reduce(0) { $0 + UInt64($1) }
        var missing = CIDList()
        var missingBytes: UInt64 = 0
        if try await remote.isPinnedRecursively(root) {
            summary.rootPinned = true
            summary.presentBytes = summary.dagBytes
        } else {
            let present = try await presence(dag.cids, on: remote)
            for (index, held) in present.enumerated() where !held {
                missing.append(dag.cids, at: index)
                missingBytes += UInt64(dag.sizes[index])
            }
            summary.presentBytes = summary.dagBytes - missingBytes
        }
        summary.presentBlocks = dag.cids.count - missing.count
        dag = (CIDList(), [])  // only `missing` is needed from here on
        if !dryRun {
            if !missing.isEmpty {
                progress?("uploading", 0, missing.count)
                let report = try await remote.put(missing, root: root, from: store)
                summary.uploadedBlocks = report.blocks
                summary.uploadedBytes = report.bytes
                progress?("uploading", missing.count, missing.count)
            }
            if pinName != nil || !summary.rootPinned {
                try await remote.pin(root: root, name: pinName, replace: replace)
            }
        } else {
            summary.uploadedBlocks = missing.count
            summary.uploadedBytes = missingBytes
        }
        let elapsed = ContinuousClock.now - clock
        summary.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return summary
    }

    /// Whether the remote holds each block of `cids`: from its listing when it holds few
    /// enough blocks, else asked in batches of 4096 (`has`, bounded concurrency).
    func presence(_ cids: CIDList, on remote: any RemoteBlockHolder) async throws -> [Bool] {
        let limit = listingLimit ?? max(65_536, 4 * cids.count)
        if limit > 0, let present = try await remote.listedPresence(of: cids, limit: limit) {
            guard present.count == cids.count else {
                throw RemoteError(.remote, "the existence check answered \(present.count) of \(cids.count) blocks")
            }
            progress?("checking", cids.count, cids.count)
            return present
        }
        var present: [Bool] = [], start = 0
        present.reserveCapacity(cids.count)
        while start < cids.count {
            try Task.checkCancellation()
            let slice = Array(cids[start..<min(start + 4096, cids.count)])
            let answers = try await remote.has(slice)
            guard answers.count == slice.count else {
                throw RemoteError(.remote, "the existence check answered \(answers.count) of \(slice.count) blocks")
            }
            present += answers
            start += slice.count
            progress?("checking", start, cids.count)
        }
        return present
    }

    /// Every distinct block of `root`'s DAG (depth first, parents first) with its size; a
    /// block missing from the store is an error naming it. Only blocks with links are read
    /// (copies, not mapped pages, so a large DAG leaves nothing resident); leaves are sized
    /// from the index, looked up in batches of 4096 (one read transaction each).
    static func walk(_ root: CID, in store: BlockStore) throws -> (cids: CIDList, sizes: [Int]) {
        // The blocks seen: a spilling key set (constant memory; a Set<CID> took ~200 B a block).
        let seen = SpillingCIDSet()
        var stack = [root], order = CIDList(), sizes: [Int] = []
        var pending: [Int] = []  // places in `order` of leaves not yet sized
        func sizePending() throws {
            let found = try store.locations(of: pending.map { order[$0] })
            for (place, location) in zip(pending, found) {
                guard let location else {
                    throw RemoteError(.usage, "block \(order[place]) of \(root) is not in the local store")
                }
                sizes[place] = location.length
            }
            pending.removeAll(keepingCapacity: true)
        }
        while let cid = stack.popLast() {
            guard try seen.insert(cid) else { continue }
            try Task.checkCancellation()
            if cid.multihash.code == .identity {
                // Never sent (its CID holds it), but what it links to is part of the DAG.
                stack.append(contentsOf: try expandingIdentity([cid]).reversed())
                continue
            }
            var children: [CID] = []
            var size = 0
            if !hasLinks(cid.codec) {
                pending.append(order.count)
                if pending.count == 4096 { order.append(cid); sizes.append(0); try sizePending(); continue }
            } else if let bytes = try store.block(cid, verified: true) {
                size = bytes.count
                children = try links(of: cid, bytes)
            } else {
                throw RemoteError(.usage, "block \(cid) of \(root) is not in the local store")
            }
            order.append(cid)
            sizes.append(size)
            stack.append(contentsOf: children.reversed())
        }
        try sizePending()
        return (order, sizes)
    }
}
