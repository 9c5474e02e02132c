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
    /// reader, which verifies every block before it reaches the writer. All parts go into one
    /// commit with the roots' pins: a bad CAR anywhere leaves the store unchanged, and the
    /// answer is sent only once that commit is durable.
    static func importCARs(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        let pinRoots = try request.bool("pin-roots", default: true)
        let stats = try request.bool("stats", default: false)
        let silent = try request.bool("silent", default: false)
        var options = CARVerifyOptions()
        options.read.allowBigBlock = try request.bool("allow-big-block", default: false)
        options.checkComplete = pinRoots
        options.requireRoots = pinRoots
        let carOptions = options
        var reader = try MultipartReader(body: request.request.body, contentType: request.request.headers[.contentType],
                                         maxBytes: state.configuration.limits.maxBodyBytes)
        let (roots, blocks, bytes) = try await WriterSession.with(state, oneCommit: true) { session in
            var roots: [CID] = []
            var blocks = 0
            var bytes: UInt64 = 0
            var parts = 0
            while try await reader.nextPart() != nil {
                parts += 1
                let pipe = BytePipe()
                let reading = Task {
                    do {
                        return try await session.run { writer in
                            try CARExport.importCAR(from: PipeCARSource(pipe: pipe), options: carOptions) { cid, block in
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
                let summary: CARSummary
                do { summary = try await reading.value } catch { throw RPCError.normal("importing CAR \(parts): \(RPCError.from(error).message)") }
                roots.append(contentsOf: summary.header.roots)
                blocks += summary.blockCount
                bytes += summary.blockBytes
            }
            guard parts > 0 else { throw RPCError.client("file argument 'path' is required") }
            var unique: [CID] = []
            for root in roots where !unique.contains(root) { unique.append(root) }
            let pinned = unique
            try await session.run { writer in
                if pinRoots { try writer.commit(pinningAll: pinned, recursive: true) } else { try writer.commit() }
            }
            return (unique, blocks, bytes)
        }
        guard !silent else { return RPCOutput.values([]) }
        var values: [JSONValue] = pinRoots ? roots.map { root in
            .object([("Root", .object([("Cid", .link(root.description)), ("PinErrorMsg", .string(""))]))])
        } : []
        if stats {
            values.append(.object([("Stats", .object([("BlockCount", .int(blocks)), ("BlockBytesCount", .int(Int(bytes)))]))]))
        }
        return RPCOutput.values(values)
    }

    /// The DAG under the root as a CARv1, depth-first, each block once, every block verified
    /// as it is read; a block missing or failing verification after the head ends the stream
    /// with the error in the `X-Stream-Error` trailer.
    static func export(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        let root = try RPCRequest.cid(try request.argument("root"))
        guard try await state.read({ try $0.has(root) }) || root.multihash.code == .identity else { throw RPCError.notFound(root) }
        return try await RPCOutput.stream(state: state, contentType: "application/vnd.ipld.car", chunked: true, bytes: true) {
            [store = state.store] pipe in
            let output = PipeCAROutput(pipe: pipe)
            try Exporter(blocks: store).exportCAR(root, into: output)
            try output.flush()
        }
    }
}
