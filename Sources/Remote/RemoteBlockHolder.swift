public import Multiformats
public import Engine
public import Blocks

/// A pin held by a remote node: its root, its name (empty when unnamed) and whether it is
/// recursive (spec/remote.md §3.4).
public struct RemotePin: Hashable, Sendable {
    public var cid: CID
    public var name: String
    public var recursive: Bool

    public init(cid: CID, name: String, recursive: Bool) {
        self.cid = cid
        self.name = name
        self.recursive = recursive
    }
}

/// What an upload sent, as the remote confirmed it.
public struct PutReport: Hashable, Sendable {
    public var blocks: Int
    public var bytes: UInt64

    public init(blocks: Int = 0, bytes: UInt64 = 0) {
        self.blocks = blocks
        self.bytes = bytes
    }
}

/// How much of a DAG a fetch asks for (the trustless gateway's `dag-scope`).
public enum FetchScope: String, Hashable, Sendable {
    /// The root block only.
    case block
    /// Every block the root reaches.
    case all
}

/// A remote block holder (spec/remote.md §2): a Kubo node, an IPFS Cluster, a trustless gateway.
/// Every call has a deadline; a failure is a `RemoteError`, never a wrong answer.
public protocol RemoteBlockHolder: Sendable {
    /// Which of `cids` the remote holds, in order.
    func has(_ cids: [CID]) async throws -> [Bool]
    /// Which of `cids` the remote holds, from one listing of every block it holds; nil when
    /// it holds more than `limit` blocks or cannot list them (then `has` answers).
    func listedPresence(of cids: CIDList, limit: Int) async throws -> [Bool]?
    /// Whether a recursive pin of `root` exists, which answers for the whole DAG.
    func isPinnedRecursively(_ root: CID) async throws -> Bool
    /// Uploads the blocks `cids` (read from `blocks`) of the DAG under `root`; the remote's
    /// answer is checked against what was sent.
    func put(_ cids: CIDList, root: CID, from blocks: some BlockGetter) async throws -> PutReport
    /// Pins `root` recursively under `name`; with `replace`, then removes every other pin
    /// whose name is exactly `name` (the new root is pinned first).
    func pin(root: CID, name: String?, replace: Bool) async throws
    /// Removes every pin whose name is exactly `name`; returns their roots.
    func unpinAll(_ name: String) async throws -> [CID]
    /// The pins whose name is exactly `name`.
    func pins(_ name: String) async throws -> [RemotePin]
    /// The blocks of `root`'s DAG, each verified against its CID, none outside the DAG, the
    /// DAG complete at the end (else a `.verification` error naming the first wrong or missing
    /// block). `body` is called once per verified block, in the order received; the caller
    /// keeps nothing unless `fetch` returns normally.
    func fetch(_ root: CID, scope: FetchScope, into body: @escaping @Sendable (Block) throws -> Void) async throws
    /// Releases the connections.
    func close() async
    /// Fails now if the remote cannot pin under `name` (a Kubo older than 0.26), so that a
    /// push finds out before it uploads anything rather than after.
    func checkCanPin(name: String?) async throws
}

extension RemoteBlockHolder {
    /// No listing: every block is asked for with `has`.
    public func listedPresence(of cids: CIDList, limit: Int) async throws -> [Bool]? { nil }
    /// Every pin the remote is asked for it can make.
    public func checkCanPin(name: String?) async throws {}
}
