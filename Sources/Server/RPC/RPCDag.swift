import Blocks
import Hashing
import BlockStore
import CAR
import Engine
import Hummingbird
import Multiformats
import NIOCore

/// `dag/import` and `dag/export` (ipfs/kubo core/commands/dag/import.go, dag/export.go).
enum RPCDag {
    /// Every part of the body is a CAR (v1, or v2 read forward), streamed through the CAR
    /// reader, which verifies every block before it reaches the writer. A bad CAR anywhere
    /// leaves the store unchanged. Then, as Kubo does (core/commands/dag/import.go): the blocks
    /// are committed, and with `pin-roots` each distinct header root is pinned if its DAG is
    /// complete in the store; one that is not (a block missing, or one its codec cannot read)
    /// gets the reason in its `PinErrorMsg` and
    /// the answer ends with `unable to pin all roots: N out of M failed` in the trailer (no
    /// stats line then). The answer is sent only once the commit is durable.
    static func importCARs(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        let pinRoots = try request.bool("pin-roots", default: true)
        let stats = try request.bool("stats", default: false)
        let silent = try request.bool("silent", default: false)
        var options = CARVerifyOptions()
        options.read.allowBigBlock = try request.bool("allow-big-block", default: false)
        // Half the CLI's read buffer (still 32 blocks of 256 KiB per hashing batch): the server
        // keeps an upload within its memory budget next to the pipe and the writer's staging.
        options.read.bufferBytes = 8 << 20
        // Each batch is written to the store while the next one is hashed, in a second buffer
        // (1 GiB into a store on /dev/shm: 1.70-1.77 s against 1.78-1.82 s one after the other).
        options.read.overlapsBody = true
        options.checkComplete = false
        options.requireRoots = false
        let carOptions = options
        var reader = try MultipartReader(body: request.request.body, contentType: request.request.headers[.contentType],
                                         maxBytes: state.configuration.limits.maxBodyBytes)
        let store = state.store
        let (results, blocks, bytes) = try await WriterSession.with(state, oneCommit: true) { session in
            // The distinct header roots, in order, only when they are pinned (nothing else uses
            // them): a 7 MB CAR of 200 000 roots kept the server busy past two minutes with a
            // quadratic de-duplication, `pin-roots=false` too.
            var unique: [CID] = []
            let seen = SpillingCIDSet()
            var blocks = 0
            var bytes: UInt64 = 0
            var parts = 0
            while try await reader.nextPart() != nil {
                parts += 1
                let summary = try await importPart(&reader, number: parts, session: session, options: carOptions)
                if pinRoots {
                    try summary.header.rootList.forEachRoot { root in
                        if try seen.insert(root) { unique.append(root) }
                    }
                }
                blocks += summary.blockCount
                bytes += summary.blockBytes
            }
            guard parts > 0 else { throw RPCError.client("file argument 'path' is required") }
            let distinct = unique
            try Task.checkCancellation()  // past its `timeout`: nothing is committed
            let results = try await session.run { writer -> [(CID, String)] in
                try writer.commit()
                guard pinRoots else { return [] }
                // A root whose DAG cannot be walked (a block not valid for its codec) fails its
                // own pin, like a root with a block missing: the blocks are committed already,
                // as Kubo stores them before pinning, so the answer says so per root (200 with
                // its PinErrorMsg and the trailer), never a 500 after storing.
                let results = try distinct.map { root -> (CID, String) in
                    do {
                        return (root, try DAGWalk.firstMissing(under: root, in: store).map { RPCError.notFound($0).message } ?? "")
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        return (root, RPCError.from(error).message)
                    }
                }
                let complete = results.filter { $0.1.isEmpty }.map(\.0)
                if !complete.isEmpty { try writer.commit(pinningAll: complete, recursive: true) }
                return results
            }
            return (results, blocks, bytes)
        }
        let failed = results.filter { !$0.1.isEmpty }.count
        let trailer = failed > 0 ? "unable to pin all roots: \(failed) out of \(results.count) failed" : nil
        guard !silent else { return RPCOutput.values([], trailerError: trailer) }
        var values: [JSONValue] = results.map { root, message in
            .object([("Root", .object([("Cid", .link(root.description)), ("PinErrorMsg", .string(message))]))])
        }
        if stats && trailer == nil {
            values.append(.object([("Stats", .object([("BlockCount", .int(blocks)), ("BlockBytesCount", .int(Int(bytes)))]))]))
        }
        return RPCOutput.values(values, trailerError: trailer)
    }

    /// One part's CAR, streamed from the body through a pipe into the CAR reader on the pool.
    /// The pipe holds two of the reader's batches: while the reader's thread writes batch N
    /// and batch N+1 is hashed, the connection goes on receiving the next ones. With a pipe
    /// of half a batch (4 MiB) the connection stopped each time the pipe was full, and a core
    /// stood idle: 1 GiB into a store on /dev/shm took 1.07-1.26 s (server peak RSS 77-80 MiB)
    /// against 0.96-1.14 s with 16 MiB (92-97 MiB), 6 alternated runs each.
    private static func importPart<Body: AsyncSequence & Sendable>(
        _ reader: inout MultipartReader<Body>, number: Int, session: WriterSession, options: CARVerifyOptions
    ) async throws -> CARSummary where Body.Element == ByteBuffer {
        let pipe = BytePipe(capacity: 2 * options.read.bufferBytes)
        let reading = Task {
            do {
                return try await session.run { writer in
                    try CARExport.importCAR(from: PipeCARSource(pipe: pipe), options: options) { cid, block in
                        try writer.put(cid, BlockBytes(body: block))  // borrowed; the reader verified it
                    }
                }
            } catch {
                pipe.fail(error)
                throw error
            }
        }
        do {
            while let chunk = try await reader.nextChunk() { try await pipe.send(chunk) }
            pipe.finish()
        } catch {
            pipe.fail(error)
            _ = try? await reading.value
            throw error
        }
        do { return try await reading.value } catch { throw RPCError.normal("importing CAR \(number): \(RPCError.from(error).message)") }
    }

    /// The DAG under the root as a CARv1, depth-first, each block once, every block verified
    /// as it is read; a block missing or failing verification after the head ends the stream
    /// with the error in the `X-Stream-Error` trailer.
    static func export(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        let root = try await state.resolve(try request.argument("root"))
        guard try await state.read({ try $0.has(root) }) || root.multihash.code == .identity else { throw RPCError.notFound(root) }
        return try await RPCOutput.stream(state: state, contentType: "application/vnd.ipld.car", chunked: true, bytes: true) {
            [store = state.store] pipe in
            let output = PipeCAROutput(pipe: pipe)
            try Exporter(blocks: OfflineBlocks(store: store)).exportCAR(root, into: output, keysInMemory: SpillingKeySet.defaultMemoryLimit)
            try output.flush()
        }
    }
}
