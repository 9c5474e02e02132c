import AsyncHTTPClient
import Blocks
import CAR
import Multiformats
import NIOCore

/// Checks a CARv1 stream against the DAG of `root` (spec/remote.md §6): every block hashed
/// against its CID, no block outside the DAG, no duplicate unless the remote said it may send
/// some (`dups=y`), the DAG complete at the end. With `order: .dfs` each block must be the next
/// of a depth-first walk (links in order, a block already received skipped): the walk's stack
/// is all that is kept, so a remote sending wide nodes breadth-first is refused at the first
/// block out of order instead of growing a set of expected links without bound. With
/// `.unknown` reachability is followed as blocks come: a block linked from the root through
/// blocks received is reached (and so are the blocks received before it that it links to);
/// one not (yet) linked waits, at most `maxUnlinked` of them, so that a remote streaming
/// blocks outside the DAG is refused early instead of filling memory and the store for as
/// long as the fetch may last. The first failure is a `.verification` error naming the block.
final class DAGVerifier: @unchecked Sendable {
    enum Order { case dfs, unknown }

    let root: CID
    let scope: FetchScope
    let order: Order
    let duplicates: Bool
    /// `.dfs`: the depth-first walk still to go, its next block last.
    private var stack: [CID] = []
    /// Each block received (`SpillingCIDSet`: constant memory; a `[CID: [CID]]` held ~250
    /// bytes a block, 150 MB for a fetch of 263 000 blocks)…
    private let received: SpillingCIDSet
    /// …and, depth-first with duplicates allowed, the links of those that have some (a block
    /// sent again may bring its subtree again; counted in `keptLinks`).
    private var linksKept: [CID: [CID]] = [:]
    /// `.unknown` order: links of reached blocks not received yet, and blocks received that
    /// nothing reached links to yet (with their links).
    private var expected: Set<CID> = []
    private var unlinked: [CID: [CID]] = [:]
    let maxUnlinked: Int
    /// The most CIDs the checks may hold at once (the walk's stack, the links expected, those
    /// of blocks not yet linked, and with duplicates the links kept per block): a remote
    /// choosing a deep chain of wide nodes (depth × fanout) or wide nodes nothing links to
    /// cannot grow the client without bound (a hostile pass saw 1.3 GB). A DAG needs far fewer:
    /// a depth-first walk holds its depth times its widest node.
    let maxHeldLinks: Int
    /// Links held in `unlinked` and (duplicates) in `linksKept`.
    private var keptLinks = 0
    private var pending: [UInt8] = []
    private var offset = 0
    private var headerRead = false
    private(set) var blockCount = 0

    static var maxSection: Int { 8 << 20 }
    static var maxBlock: Int { 2 << 20 }

    init(root: CID, scope: FetchScope, order: Order, duplicates: Bool, maxUnlinked: Int = 1 << 20, maxHeldLinks: Int = 1 << 19,
         keysInMemory: Int = SpillingKeySet.walkMemoryLimit) {
        self.root = root
        received = SpillingCIDSet(memoryLimit: keysInMemory)
        self.scope = scope
        self.order = order
        self.duplicates = duplicates
        self.maxUnlinked = max(0, maxUnlinked)
        self.maxHeldLinks = max(1, maxHeldLinks)
        // An identity root is never sent: what it links to is due instead (`expandingIdentity`).
        let expanded = root.multihash.code == .identity ? try? expandingIdentity([root]) : [root]
        invalidRoot = expanded == nil
        let start = root.multihash.code == .identity && scope == .block ? [] : expanded ?? []
        stack = Array(start.reversed())
        expected = Set(start)
    }

    /// An identity root whose content does not decode: the fetch fails at `finish`.
    private let invalidRoot: Bool

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
        // An answer with no header at all is no CAR (it read as "block ROOT is missing").
        guard headerRead else { throw RemoteError(.verification, "the CAR's header is not a CARv1 header: \(what) answered no bytes") }
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
                // A CARv1 header as the CAR module reads one (its roots are not relied on: the
                // DAG asked for is the root); the CARv2 pragma is `{"version": 2}`.
                let decoded = pending.withUnsafeBytes { raw in
                    Result { () throws(CARError) in try CARv1Header.decode(UnsafeRawBufferPointer(rebasing: raw[start..<end])) }
                }
                let header: CARv1Header
                switch decoded {
                case .success(let value): header = value
                case .failure(let error): throw RemoteError(.verification, "the CAR's header is not a CARv1 header: \(error.message)")
                }
                guard header.version == 1 else {
                    throw RemoteError(.verification, header.version == 2 ? "the remote sent a CARv2 where a CARv1 was asked for"
                                                                         : "the remote sent a CAR of version \(header.version) where a CARv1 was asked for")
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
        let strict = order == .dfs || scope == .block
        if strict {
            // The walk's next block: blocks already received are passed over (dups=n: the
            // remote does not send them again; identity links were expanded when pushed).
            while let next = stack.last, next != cid, try received.contains(next) { stack.removeLast() }
        }
        // Received from here on (a block that then fails a check fails the whole fetch): one
        // key computed per block, not one to ask and one to add.
        if try !received.insert(cid) {
            guard duplicates else { throw RemoteError(.verification, "block \(cid) was sent twice (the remote promised dups=n)") }
            if strict, stack.last == cid {
                stack.removeLast()
                stack.append(contentsOf: (linksKept[cid] ?? []).reversed())  // its subtree may come again too
                guard stack.count + keptLinks <= maxHeldLinks else {
                    throw RemoteError(.verification, "the DAG of \(root) as sent needs more than \(maxHeldLinks) links held at once to be checked (at \(cid)): refused")
                }
            }
            return
        }
        if strict {
            guard stack.last == cid else {
                if let next = stack.last, stack.contains(cid) {
                    // A block the walk reaches later came first: the one due was skipped.
                    throw RemoteError(.verification, "the DAG of \(root) is incomplete: block \(next) is missing (\(cid) came in its place)")
                }
                if let next = stack.last {
                    throw RemoteError(.verification, "block \(cid) is outside the DAG of \(root) or out of depth-first order (\(next) was next)")
                }
                throw RemoteError(.verification, "block \(cid) is outside the DAG of \(root)")
            }
            stack.removeLast()
        }
        try requireValidBlock(cid, bytes)
        // Identity links expanded in place: their blocks are never sent, what they link to is.
        let links = scope == .block ? [] : try linksOfFetched(cid, bytes)
        if strict {
            if duplicates && !links.isEmpty {
                linksKept[cid] = links
                keptLinks += links.count
            }
            stack.append(contentsOf: links.reversed())
        } else {
            // Received (duplicates are only recognised).
            if expected.remove(cid) != nil {
                try reach(links)
            } else {
                unlinked[cid] = links
                keptLinks += links.count
                guard unlinked.count <= maxUnlinked else {
                    throw RemoteError(.verification, "more than \(maxUnlinked) blocks came that no block of the DAG of \(root) received so far links to (order=unk): refused (\(cid) is one)")
                }
            }
        }
        guard stack.count + expected.count + keptLinks <= maxHeldLinks else {
            throw RemoteError(.verification, "the DAG of \(root) as sent needs more than \(maxHeldLinks) links held at once to be checked (at \(cid)): refused")
        }
        blockCount += 1
        try body(Block(cid: cid, bytes: Array(bytes)))
    }

    /// `.unknown` order: the links of a block just reached; blocks already received among
    /// them (and below them) are reached too, the others are expected.
    private func reach(_ links: [CID]) throws {
        var stack = links
        while let link = stack.popLast() {
            if let below = unlinked.removeValue(forKey: link) {
                keptLinks -= below.count
                stack.append(contentsOf: below)
            } else if try !received.contains(link) {
                expected.insert(link)
            }
        }
    }

    /// The DAG is complete, and (order unknown) nothing received lies outside it. In
    /// depth-first order every block was taken only as the walk's next, so the DAG is complete
    /// exactly when nothing but blocks already received is left on its stack: no second set
    /// of every CID is built at the end (the peak of a large fetch).
    func finish() throws {
        if invalidRoot {
            throw RemoteError(.verification, "the identity root \(root) does not decode as a block of its codec")
        }
        if order == .dfs || scope == .block {
            if let missing = try stack.last(where: { try !received.contains($0) }) {
                throw RemoteError(.verification, "the DAG of \(root) is incomplete: block \(missing) is missing")
            }
            return
        }
        if let missing = expected.first {
            throw RemoteError(.verification, "the DAG of \(root) is incomplete: block \(missing) is missing")
        }
        if let stray = unlinked.keys.first {
            throw RemoteError(.verification, "block \(stray) is outside the DAG of \(root)")
        }
    }
}

/// A fetched block is at most 2 MiB and hashes to its CID, else a `.verification` error.
func requireValidBlock(_ cid: CID, _ bytes: UnsafeRawBufferPointer) throws {
    try requireSecure(cid)
    guard bytes.count <= DAGVerifier.maxBlock else {
        throw RemoteError(.verification, "block \(cid) is \(bytes.count) bytes, over the 2 MiB block limit")
    }
    switch BlockVerifier.verdict(cid, bytes) {
    case .valid: break
    case .mismatch: throw RemoteError(.verification, "block \(cid) does not match its CID")
    case .unsupported: throw RemoteError(.verification, "block \(cid) cannot be verified: unsupported hash \(cid.multihash.code)")
    }
}

/// The links of a verified block, identity links expanded in place (`linksThroughIdentity`:
/// an identity CID's block is never sent, what it links to must be); one that does not decode
/// is a `.verification` error.
func linksOfFetched(_ cid: CID, _ bytes: UnsafeRawBufferPointer) throws -> [CID] {
    let links: [CID]
    do { links = try linksThroughIdentity(of: cid, bytes) } catch {
        // Its message names the block already ("block CID is not valid dag-cbor: …").
        throw RemoteError(.verification, error.message)
    }
    // A link to a CID Kubo would not accept from outside (a digest too short, an insecure
    // hash) is refused before it is asked for or awaited (spec/multiformats.md §5.1).
    for link in links { try requireSecure(link, linkedFrom: cid) }
    return links
}

/// `CID.checkSecure()` for a CID that came from the remote: a `.verification` error.
func requireSecure(_ cid: CID, linkedFrom parent: CID? = nil) throws {
    do { try cid.checkSecure() } catch {
        let place = parent.map { " (linked from \($0))" } ?? ""
        throw RemoteError(.verification, "block \(cid)\(place) is refused: \(error.message)")
    }
}
