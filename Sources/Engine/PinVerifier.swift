public import Multiformats
import Blocks
import CAR
import CairnSystem

/// One recursive pin checked by `PinVerifier`: its root and the blocks of its DAG found bad
/// (absent, failing verification, undecodable, or with an insecure CID), each once, in walk
/// order. The pin is complete when there are none.
public struct PinVerification: Hashable, Sendable {
    public struct BadNode: Hashable, Sendable {
        public var cid: CID
        /// One line: why the block is bad.
        public var error: String
    }

    public var root: CID
    public var badNodes: [BadNode]
    public var isComplete: Bool { badNodes.isEmpty }
}

/// `pin verify` (spec/engine.md §5; Kubo's `ipfs pin verify`, core/commands/pin/pin.go): walks
/// the DAG of each recursive pin offline, every block read verified against its CID, through
/// dag-pb and dag-cbor links as the pinner follows them, and reports each pin with the bad
/// blocks under it. A bad block's own links are not followed (its bytes are not trusted).
///
/// Memory stays bounded whatever the DAG's size: the CIDs visited are `SpillingCIDSet`s, the
/// walk's stack holds one frame (a block's links) per level of the DAG. A subtree found
/// complete is remembered across pins (`complete`), so the DAGs of pins that share blocks (the
/// versions of one cache) are read once; a subtree with a bad block is walked again for each
/// pin that reaches it, so that each pin lists its own bad blocks.
public struct PinVerifier {
    public let blocks: any BlockGetter

    public init(blocks: any BlockGetter) {
        self.blocks = blocks
    }

    /// Checks the DAGs of `roots` (each distinct root once, in order) and calls `body` with
    /// each pin's result as soon as its walk ends. Cancellable (`CancellationToken.process`).
    /// A bad block (whatever its reading threw) is a result, not an error: this throws only
    /// for a cancellation or a failure of the walk's own scratch sets.
    public func verify(_ roots: [CID], _ body: (PinVerification) throws -> Void) throws {
        let complete = SpillingCIDSet()
        let done = SpillingCIDSet()
        for root in roots where try done.insert(root) {
            try body(PinVerification(root: root, badNodes: try walk(root, complete: complete)))
        }
    }

    /// One block's place in the walk: its links and the next one to take.
    private struct Frame {
        var cid: CID
        var links: [CID]
        var next = 0
        /// Bad blocks found before this block was entered: none more when it is left means its
        /// subtree is complete.
        var badBefore: Int
    }

    private func walk(_ root: CID, complete: SpillingCIDSet) throws -> [PinVerification.BadNode] {
        let visited = SpillingCIDSet()
        var bad: [PinVerification.BadNode] = []
        var stack: [Frame] = []
        var steps = 0
        func enter(_ cid: CID) throws {
            steps += 1
            if steps & 255 == 0 { try CancellationToken.process.check() }
            guard try !complete.contains(cid), try visited.insert(cid) else { return }
            switch inspect(cid) {
            case .bad(let error):
                bad.append(.init(cid: cid, error: oneLine(error, limit: 300)))
            case .links(let links) where links.isEmpty:
                _ = try complete.insert(cid)
            case .links(let links):
                stack.append(Frame(cid: cid, links: links, badBefore: bad.count))
            }
        }
        try enter(root)
        while let top = stack.last {
            if top.next < top.links.count {
                stack[stack.count - 1].next += 1
                try enter(top.links[top.next])
            } else {
                stack.removeLast()
                if bad.count == top.badBefore { _ = try complete.insert(top.cid) }
            }
        }
        return bad
    }

    private enum Inspection {
        case links([CID])
        case bad(String)
    }

    /// The links of the block `cid`, read verified, or why it is bad.
    private func inspect(_ cid: CID) -> Inspection {
        do {
            try cid.checkSecure()
        } catch {
            return .bad(error.message)
        }
        do {
            guard let bytes = try blocks.block(cid, verified: true) else { return .bad("block not found in the store") }
            guard hasLinks(cid.codec) else { return .links([]) }
            return .links(try links(of: cid, bytes))
        } catch let error as any CairnError {
            return .bad(error.message)
        } catch {
            return .bad("\(error)")
        }
    }
}
