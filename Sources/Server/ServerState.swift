import BlockStore
import Engine
import Multiformats
import Logging

/// What every request handler shares: the configuration, the one process-wide store, the pool
/// blocking store calls run on, and the gates that serialise writes and bound uploads
/// (spec/serve.md §3).
final class ServerState: Sendable {
    let configuration: ServerConfiguration
    let logger: Logger
    /// The store, opened once for the life of the server. Reads run concurrently on the pool.
    let store: BlockStore
    /// Blocking store work runs here, never on an event loop.
    let pool: BlockingPool
    /// One writer at a time: every request that changes the store holds this gate.
    let writeGate: AsyncGate
    /// How many times the write gate was released: a write may have changed the store.
    let writes: Counter
    /// At most `limits.concurrentUploads` request bodies stream in at once.
    let uploadGate: AsyncGate
    /// At most `limits.concurrentStreams` long answers (RPC streams, gateway CARs) produce at
    /// once; more wait for a turn (spec/serve.md §4).
    let streamGate: AsyncGate
    /// Kubo's `API.Authorizations`, if an auth file was given.
    let authorizations: Authorizations?

    init(configuration: ServerConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        authorizations = try configuration.authFile.map { try Authorizations(file: $0) }
        do {
            store = try BlockStore(layout: configuration.store, create: !configuration.readOnly)
        } catch let error as BlockStoreError {
            throw ServerError(.store, "cannot open the store: \(error.message)")
        }
        pool = BlockingPool(threads: configuration.limits.concurrentUploads + 16)
        uploadGate = AsyncGate(permits: configuration.limits.concurrentUploads)
        streamGate = AsyncGate(permits: configuration.limits.concurrentStreams)
        let writes = Counter()
        self.writes = writes
        writeGate = AsyncGate(permits: 1, released: { writes.increment() })
    }

    /// Runs a read on the pool.
    func read<T: Sendable>(_ body: @escaping @Sendable (BlockStore) throws -> T) async throws -> T {
        let store = store
        return try await pool.run { try body(store) }
    }

    /// The CID an `ipfs-path` argument names (`RPCRequest.path`): the root itself, or what its
    /// names lead to (`UnixFSReader.resolve`: UnixFS directories, basic or HAMT-sharded, only
    /// the shards on each name's route read; dag-cbor maps and lists to a link, or to the block
    /// the path ends inside, as boxo's resolver gives that block's CID); every block verified.
    /// A name absent is Kubo's `no link named "NAME" under CID` (boxo `resolver.ErrNoLink`, 500).
    func resolve(_ argument: String) async throws -> CID {
        let (root, segments) = try RPCRequest.path(argument)
        guard !segments.isEmpty else { return root }
        return try await read { try UnixFSReader(store: OfflineBlocks(store: $0)).resolve(root, segments) }
    }

    /// Each argument's CID, in order (`resolve(_:)`).
    func resolve(_ arguments: [String]) async throws -> [CID] {
        var cids: [CID] = []
        for argument in arguments { cids.append(try await resolve(argument)) }
        return cids
    }

    /// Runs an index point lookup (`size(of:)`, `has`) on the caller's own task, without the
    /// hop to the pool: one primary-key SELECT on a free read-only connection of the store's
    /// (`IndexLookups`), a few microseconds on the memory-mapped index (spec/serve.md §3).
    func lookup<T>(_ body: (BlockStore) throws -> T) throws -> T {
        try body(store)
    }

    /// Runs a write on the pool, holding the one-writer gate; it returns once the store's
    /// commit is durable.
    func write<T: Sendable>(_ body: @escaping @Sendable (BlockStore) throws -> T) async throws -> T {
        let store = store
        let pool = pool
        return try await writeGate.withPermit {
            try Task.checkCancellation()  // a request past its `timeout` writes nothing
            return try await pool.run { try body(store) }
        }
    }
}
