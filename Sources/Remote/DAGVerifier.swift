import AsyncHTTPClient
import Blocks
import Multiformats
import NIOCore

/// Checks a CARv1 stream against the DAG of `root` (spec/remote.md §6): every block hashed
/// against its CID, no block outside the DAG, no duplicate unless the remote said it may send
/// some (`dups=y`), the DAG complete at the end. With `order: .dfs` a block must be linked from
/// one already received; with `.unknown` the reachability check runs at the end. The first
/// failure is a `.verification` error naming the block.
final class DAGVerifier: @unchecked Sendable {
    enum Order { case dfs, unknown }

    let root: CID
    let scope: FetchScope
    let order: Order
    let duplicates: Bool
    private var expected: Set<CID> = []
    private var children: [CID: [CID]] = [:]
    private var pending: [UInt8] = []
    private var offset = 0
    private var headerRead = false
    private(set) var blockCount = 0

    static var maxSection: Int { 8 << 20 }
    static var maxBlock: Int { 2 << 20 }

    init(root: CID, scope: FetchScope, order: Order, duplicates: Bool) {
        self.root = root
        self.scope = scope
        self.order = order
        self.duplicates = duplicates
        expected.insert(root)
    }

    /// Reads the whole body, then checks the DAG's completeness.
    func consume(_ response: HTTPClientResponse, _ what: String, _ body: (Block) throws -> Void) async throws {
        for try await buffer in response.body {
            pending.append(contentsOf: buffer.readableBytesView)
            try drain(body)
        }
        try checkStreamError(response, what)
        guard offset == pending.count else {
            throw RemoteError(.verification, "\(what): the CAR ends inside a section")
        }
        try finish()
    }

    /// Takes every complete header or section out of `pending`.
    func drain(_ body: (Block) throws -> Void) throws {
        while let entry = try varint() {
            let (length, varintBytes) = entry
            guard length <= UInt64(Self.maxSection) else {
                throw RemoteError(.verification, "a CAR section of \(length) bytes is over the \(Self.maxSection)-byte limit")
            }
            let start = offset + varintBytes, end = start + Int(length)
            guard end <= pending.count else { break }
            offset = end
            if !headerRead {
                headerRead = true
                guard pending[start..<end].elementsEqual([0xa1, 0x67, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x02]) == false else {
                    throw RemoteError(.verification, "the remote sent a CARv2 where a CARv1 was asked for")
                }
                continue
            }
            try pending.withUnsafeBytes { raw in
                let section = UnsafeRawBufferPointer(rebasing: raw[start..<end])
                let decoded: (cid: CID, length: Int)
                do { decoded = try CID.decode(prefixOf: section) } catch {
                    throw RemoteError(.verification, "a CAR section does not start with a CID: \(error)")
                }
                try accept(decoded.cid, UnsafeRawBufferPointer(rebasing: section[decoded.length...]), body)
            }
        }
        if offset > 1 << 20 {
            pending.removeFirst(offset)
            offset = 0
        }
    }

    private func varint() throws -> (UInt64, Int)? {
        var value: UInt64 = 0, shift: UInt64 = 0, index = offset
        while index < pending.count {
            let byte = pending[index]
            value |= UInt64(byte & 0x7f) << shift
            index += 1
            if byte & 0x80 == 0 { return (value, index - offset) }
            shift += 7
            guard shift < 63 else { throw RemoteError(.verification, "a CAR section length is not a varint") }
        }
        return nil
    }

    private func accept(_ cid: CID, _ bytes: UnsafeRawBufferPointer, _ body: (Block) throws -> Void) throws {
        if children[cid] != nil {
            guard duplicates else { throw RemoteError(.verification, "block \(cid) was sent twice (the remote promised dups=n)") }
            return
        }
        if order == .dfs || scope == .block {
            guard expected.remove(cid) != nil else {
                throw RemoteError(.verification, "block \(cid) is outside the DAG of \(root)")
            }
        }
        try requireValidBlock(cid, bytes)
        let links = scope == .block ? [] : try linksOfFetched(cid, bytes)
        children[cid] = links
        if order == .dfs { for link in links where children[link] == nil && !isIdentity(link) { expected.insert(link) } }
        blockCount += 1
        try body(Block(cid: cid, bytes: Array(bytes)))
    }

    private func isIdentity(_ cid: CID) -> Bool { cid.multihash.code == .identity }

    /// The DAG is complete, and (order unknown) nothing received lies outside it. In
    /// depth-first order every block was taken only when a received block linked to it, so
    /// the DAG is complete exactly when no link is still expected: no second set of every
    /// CID is built at the end (the peak of a large fetch).
    func finish() throws {
        if order == .dfs || scope == .block {
            if let missing = expected.first(where: { !isIdentity($0) }) {
                throw RemoteError(.verification, "the DAG of \(root) is incomplete: block \(missing) is missing")
            }
            return
        }
        var reached: Set<CID> = [], stack = [root]
        while let cid = stack.popLast() {
            guard !isIdentity(cid), reached.insert(cid).inserted else { continue }
            guard let links = children[cid] else {
                throw RemoteError(.verification, "the DAG of \(root) is incomplete: block \(cid) is missing")
            }
            stack.append(contentsOf: links.reversed())
        }
        if let stray = children.keys.first(where: { !reached.contains($0) }) {
            throw RemoteError(.verification, "block \(stray) is outside the DAG of \(root)")
        }
    }
}

/// A fetched block is at most 2 MiB and hashes to its CID, else a `.verification` error.
func requireValidBlock(_ cid: CID, _ bytes: UnsafeRawBufferPointer) throws {
    guard bytes.count <= DAGVerifier.maxBlock else {
        throw RemoteError(.verification, "block \(cid) is \(bytes.count) bytes, over the 2 MiB block limit")
    }
    switch BlockVerifier.verdict(cid, bytes) {
    case .valid: break
    case .mismatch: throw RemoteError(.verification, "block \(cid) does not match its CID")
    case .unsupported: throw RemoteError(.verification, "block \(cid) cannot be verified: unsupported hash \(cid.multihash.code)")
    }
}

/// The links of a verified block; one that does not decode is a `.verification` error.
func linksOfFetched(_ cid: CID, _ bytes: UnsafeRawBufferPointer) throws -> [CID] {
    do { return try links(of: cid, bytes) } catch {
        throw RemoteError(.verification, "block \(cid) does not decode: \(error)")
    }
}
