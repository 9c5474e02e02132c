public import Multiformats
import Blocks
import CairnSystem
import UnixFS

/// Reads UnixFS DAGs from a `BlockGetter` (the store, or any other source): files as byte
/// streams (in order, one block in memory at a time, optionally a byte range), directories
/// (basic and HAMT-sharded) as entries, symlinks as targets. Every block is verified as it is
/// read.
public struct UnixFSReader: Sendable {
    public let blocks: any BlockGetter

    public init(store blocks: some BlockGetter) {
        self.blocks = blocks
    }

    /// What a CID names.
    public enum Kind: Sendable, Hashable {
        case file
        case directory
        case symlink(target: [UInt8])
    }

    /// One directory entry.
    public struct Entry: Sendable, Hashable {
        /// The name bytes exactly as in the link (validate before using as a path).
        public var name: [UInt8]
        public var cid: CID
    }

    /// A decoded node: the block, its dag-pb form and UnixFS data (nil for raw leaves).
    struct Node {
        var bytes: [UInt8]
        var pb: PBNode?
        var data: UnixFSData?
    }

    func block(_ cid: CID, root: CID) throws -> [UInt8] {
        if cid.multihash.code == .identity { return cid.multihash.digest }
        guard let bytes = try blocks.block(cid, verified: true) else {
            throw EngineError(.notFound, "block \(cid) (in the DAG of \(root)) is not in the store")
        }
        return bytes
    }

    func node(_ cid: CID, root: CID) throws -> Node {
        let bytes = try block(cid, root: root)
        switch cid.codec {
        case .raw:
            return Node(bytes: bytes, pb: nil, data: nil)
        case .dagPB:
            do {
                let pb = try PBNode(decoding: bytes, requireSortedLinks: false)
                guard let message = pb.data else {
                    throw EngineError(.invalidDAG, "\(cid) is a dag-pb node without UnixFS data")
                }
                return Node(bytes: bytes, pb: pb, data: try UnixFSData(decoding: message))
            } catch let error as EngineError {
                throw error
            } catch {
                throw EngineError(.invalidDAG, "\(cid) is not a valid UnixFS node: \(error)")
            }
        default:
            throw EngineError(.invalidDAG, "\(cid) has codec \(cid.codec), not UnixFS (dag-pb or raw)")
        }
    }

    /// Whether `cid` is a file, a directory or a symlink.
    public func kind(of cid: CID) throws -> Kind {
        let node = try node(cid, root: cid)
        guard let data = node.data else { return .file }
        switch data.type {
        case .file, .raw: return .file
        case .directory, .hamtShard: return .directory
        case .symlink: return .symlink(target: data.data ?? [])
        case .metadata:
            throw EngineError(.invalidDAG, "\(cid) is a UnixFS Metadata node, which is not supported")
        }
    }

    /// Streams the file at `root` to `body`, in order; returns the byte count delivered. Checks
    /// that the bytes add up to the sizes the file nodes declare.
    ///
    /// With a range, only the bytes from `offset` (at most `length` of them) are delivered:
    /// subtrees wholly before the range are skipped on their parent's declared sizes (not
    /// read), and reading stops once the range is complete. An offset past the end delivers
    /// nothing.
    @discardableResult
    public func readFile(
        _ root: CID, offset: UInt64 = 0, length: UInt64? = nil, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> UInt64 {
        let end = length.map { offset.addingReportingOverflow($0).overflow ? UInt64.max : offset + $0 } ?? .max
        var delivered: UInt64 = 0
        // Delivers the part of `bytes` (at file position `position`) inside the range.
        func emit(_ bytes: UnsafeRawBufferPointer, at position: UInt64) throws {
            let count = UInt64(bytes.count)
            guard position < end, count > 0, position + count > offset else { return }
            let from = Int(offset > position ? offset - position : 0)
            let to = Int(min(count, end - position))
            try body(UnsafeRawBufferPointer(rebasing: bytes[from..<to]))
            delivered += UInt64(to - from)
        }
        // Depth-first with an explicit stack (no recursion, whatever the depth). A block may
        // appear many times in a file, but never below itself: `ancestors` (the nodes above the
        // one being read) catches a cycle, which only truncated digests make possible.
        var stack: [(cid: CID, expected: UInt64?, depth: Int)] = [(root, nil, 0)]
        var ancestors: [CID] = []
        var onPath = Set<CID>()
        var total: UInt64 = 0
        var declared: UInt64? = nil
        while let (cid, expected, depth) = stack.popLast() {
            try CancellationToken.process.check()
            if total >= end { return delivered }  // the range is complete: the rest is not read
            if let expected, case let (after, false) = total.addingReportingOverflow(expected), after <= offset {
                total += expected  // wholly before the range
                continue
            }
            while ancestors.count > depth { onPath.remove(ancestors.removeLast()) }
            if onPath.contains(cid) {
                throw EngineError(.invalidDAG, "file \(root) has a cycle: \(cid) links to itself through its children")
            }
            let node = try node(cid, root: root)
            let start = total
            guard let data = node.data, let pb = node.pb else {
                try node.bytes.withUnsafeBytes { try emit($0, at: total) }
                total += UInt64(node.bytes.count)
                try check(cid, expected, produced: UInt64(node.bytes.count))
                continue
            }
            switch data.type {
            case .file, .raw:
                break
            case .directory, .hamtShard:
                throw EngineError(.invalidDAG, cid == root ? "\(root) is a directory" : "\(cid) in file \(root) is a directory")
            case .symlink:
                throw EngineError(.invalidDAG, cid == root ? "\(root) is a symlink" : "\(cid) in file \(root) is a symlink")
            case .metadata:
                throw EngineError(.invalidDAG, "\(cid) is a UnixFS Metadata node, which is not supported")
            }
            if cid == root { declared = data.fileSize }
            if !pb.links.isEmpty && data.blockSizes.count != pb.links.count {
                throw EngineError(.invalidDAG, "file node \(cid) has \(pb.links.count) links but \(data.blockSizes.count) block sizes")
            }
            if let inline = data.data, !inline.isEmpty {
                try inline.withUnsafeBytes { try emit($0, at: total) }
                total += UInt64(inline.count)
            }
            if pb.links.isEmpty {
                try check(cid, expected, produced: total - start)
            } else {
                if let expected {
                    let sum = data.blockSizes.reduce(UInt64(data.data?.count ?? 0), &+)
                    if sum != expected {
                        throw EngineError(.invalidDAG, "file node \(cid) declares \(sum) bytes, its parent \(expected)")
                    }
                }
                ancestors.append(cid)
                onPath.insert(cid)
                for (link, size) in zip(pb.links, data.blockSizes).reversed() { stack.append((link.hash, size, depth + 1)) }
            }
        }
        if let declared, declared != total {
            throw EngineError(.invalidDAG, "file \(root) declares \(declared) bytes but its blocks hold \(total)")
        }
        return delivered
    }

    private func check(_ cid: CID, _ expected: UInt64?, produced: UInt64) throws {
        if let expected, expected != produced {
            throw EngineError(.invalidDAG, "block \(cid) holds \(produced) bytes of file data, its parent says \(expected)")
        }
    }

    /// The CID named by `segments` below `root`, as `ipfs cat ROOT/a/b` resolves it (boxo's
    /// resolver): each segment an entry of a UnixFS directory (basic or HAMT-sharded), or a key
    /// or list index of a dag-cbor block followed to a link (`CBORPath`); a path that ends
    /// inside a dag-cbor block names that block. A name absent is `notFound` ("no link named
    /// …", Kubo's words; in dag-cbor, the rest of the path); passing through a file, or a
    /// dag-cbor block that does not decode, is `invalidDAG`.
    public func resolve(_ root: CID, _ segments: [String]) throws -> CID {
        var current = root
        var rest = segments[...]
        while let segment = rest.first {
            try CancellationToken.process.check()
            guard current.codec == .dagCBOR else {
                guard let found = try entry(named: Array(segment.utf8), in: current) else {
                    throw EngineError(.notFound, "no link named \"\(segment)\" under \(current)")
                }
                current = found
                rest = rest.dropFirst()
                continue
            }
            let bytes = try block(current, root: root)
            let outcome: CBORPath.Outcome
            do throws(DagCBORError) {
                outcome = try CBORPath.resolve(bytes, rest)
            } catch {
                throw EngineError(.invalidDAG, "block \(current) is not valid dag-cbor: \(error.detail)")
            }
            switch outcome {
            case let .link(cid, consumed):
                current = cid
                rest = rest.dropFirst(consumed)
            case .inside:
                return current
            case .notFound:
                throw EngineError(.notFound, "no link named \"\(rest.joined(separator: "/"))\" under \(current)")
            }
        }
        return current
    }

    /// The entry `name` of the directory at `cid`, or nil when it has none: a basic directory's
    /// link of that name; in a HAMT, the name's bucket at each depth (the bits of its
    /// murmur3-x64-64 key, `HAMTBucket`) names the one link to follow, so only the shards on
    /// its route are read, never the whole directory.
    public func entry(named name: [UInt8], in cid: CID) throws -> CID? {
        let root = try node(cid, root: cid)
        guard let data = root.data, var links = root.pb?.links, data.type == .directory || data.type == .hamtShard else {
            throw EngineError(.invalidDAG, "\(cid) is not a directory")
        }
        if data.type == .directory { return links.first { ($0.name ?? []) == name }?.hash }
        // No entry has an empty name (its link would be the bucket's sub-shard).
        guard !name.isEmpty else { return nil }
        let fanout = try hamtFanout(data, cid)
        var shard = cid, depth = 0
        while true {
            switch HAMTBucket.step(to: name, depth: depth, fanout: fanout, in: links) {
            case .entry(let found): return found
            case .absent: return nil
            case nil:
                // Past the key's 64 bits no bucket is left: a shard this deep is malformed
                // (boxo: "sharded directory too deep").
                throw EngineError(.invalidDAG, "HAMT \(cid) is sharded too deep: shard \(shard) is past the 64 bits of a name's key")
            case .subShard(let sub):
                let child = try node(sub, root: cid)
                guard let childData = child.data, let childPB = child.pb, childData.type == .hamtShard else {
                    throw EngineError(.invalidDAG, "HAMT shard \(shard) links to \(sub), which is not a shard")
                }
                _ = try hamtFanout(childData, sub, root: cid, rootFanout: fanout)
                shard = sub
                links = childPB.links
                depth += 1
            }
        }
    }

    /// The fanout of shard `cid` of the HAMT at `root`, checked (`HAMTBucket.fanout`): a
    /// sub-shard (`rootFanout` given) must have the root's fanout and hash function.
    private func hamtFanout(_ data: UnixFSData, _ cid: CID, root: CID? = nil, rootFanout: Int? = nil) throws -> Int {
        do { return try HAMTBucket.fanout(of: data, shard: cid, root: root ?? cid, rootFanout: rootFanout) } catch {
            throw EngineError(.invalidDAG, error.message)
        }
    }

    /// Calls `body` with each entry of the directory at `cid`: a basic directory's named links
    /// in order, or a HAMT shard's entries (sub-shards walked, the hex bucket prefix stripped).
    public func forEachEntry(ofDirectory cid: CID, _ body: (Entry) throws -> Void) throws {
        let root = try node(cid, root: cid)
        guard let data = root.data, let pb = root.pb, data.type == .directory || data.type == .hamtShard else {
            throw EngineError(.invalidDAG, "\(cid) is not a directory")
        }
        if data.type == .directory {
            for link in pb.links {
                try body(Entry(name: link.name ?? [], cid: link.hash))
            }
            return
        }
        let fanout = try hamtFanout(data, cid)
        let prefixLength = String(fanout - 1, radix: 16).count
        // A HAMT is a tree: a shard met twice means a cycle (or a shared sub-shard, invalid too).
        var stack: [(CID, PBNode)] = [(cid, pb)]
        var shards: Set<CID> = [cid]
        while let (shard, node) = stack.popLast() {
            try CancellationToken.process.check()
            for link in node.links {
                let name = link.name ?? []
                guard name.count >= prefixLength,
                      name.prefix(prefixLength).allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x46) }) else {
                    throw EngineError(.invalidDAG, "HAMT shard \(shard) has a link whose name lacks the \(prefixLength)-hex-digit bucket prefix")
                }
                if name.count == prefixLength {
                    let child = try self.node(link.hash, root: cid)
                    guard let childData = child.data, let childPB = child.pb, childData.type == .hamtShard else {
                        throw EngineError(.invalidDAG, "HAMT shard \(shard) links to \(link.hash), which is not a shard")
                    }
                    _ = try hamtFanout(childData, link.hash, root: cid, rootFanout: fanout)
                    guard shards.insert(link.hash).inserted else {
                        throw EngineError(.invalidDAG, "HAMT \(cid) reaches shard \(link.hash) twice (a cycle, or a shard in two buckets: a HAMT is a tree)")
                    }
                    stack.append((link.hash, childPB))
                } else {
                    try body(Entry(name: Array(name.dropFirst(prefixLength)), cid: link.hash))
                }
            }
        }
    }
}
