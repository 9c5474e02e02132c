import Blocks
import BlockStore
import Hashing
import Hummingbird
import Multiformats
import NIOCore

/// `block/stat|get|put|rm` (ipfs/kubo core/commands/block.go).
enum RPCBlocks {
    static func stat(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        let cid = try await state.resolve(try request.argument("cid"))
        guard let size = try state.lookup({ try $0.size(of: cid) }) else { throw RPCError.notFound(cid) }
        return RPCOutput.once(.object([("Key", .string(cid.description)), ("Size", .int(size))]))
    }

    static func get(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        let cid = try await state.resolve(try request.argument("cid"))
        return try await RPCOutput.stream(state: state, contentType: "text/plain", chunked: true, bytes: true) { [store = state.store] pipe in
            guard let bytes = try store.getIfPresent(cid, verify: true) else { throw RPCError.notFound(cid) }
            try pipe.sendBlocking(ByteBuffer(bytes: bytes))
        }
    }

    /// The CID format `block/put` was asked for.
    struct Format: Sendable {
        var algorithm: HashAlgorithm
        var codec: Multicodec
        var version0 = false
        /// `mhlen`: -1 or the digest's full length.
        var length: Int

        init(_ request: RPCRequest) throws {
            let hash = request.options["mhtype"] ?? "sha2-256"
            guard let algorithm = HashAlgorithm(name: hash), algorithm != .identity else {
                throw RPCError.client("unrecognized multihash function: \(hash)")
            }
            self.algorithm = algorithm
            length = try request.int("mhlen", default: -1)
            switch (request.options["cid-codec"], request.options["format"]) {
            case (nil, nil), ("raw", _), (nil, "raw"): codec = .raw
            case ("dag-pb", _), (nil, "protobuf"): codec = .dagPB
            case ("dag-cbor", _), (nil, "cbor"): codec = .dagCBOR
            case (nil, "v0"):
                codec = .dagPB
                version0 = true
                guard algorithm == .sha2_256 else { throw RPCError.client("format v0 needs mhtype sha2-256") }
            case (let codec?, _): throw RPCError.client("unsupported cid-codec \"\(codec)\" (this server stores raw, dag-pb and dag-cbor blocks)")
            case (nil, let format?): throw RPCError.client("unsupported format \"\(format)\"")
            }
        }

        /// The block's CID, computed from its bytes (the block is checked against the codec,
        /// whose links the store follows).
        func cid(of bytes: [UInt8]) throws -> CID {
            do { _ = try links(codec: codec, bytes) } catch {
                throw RPCError.client("the block is not valid \(codec): \(error.message)")
            }
            let digest = bytes.withUnsafeBytes { algorithm.hash($0) }
            guard length == -1 || length == digest.bytes.count else {
                throw RPCError.client("mhlen \(length) is not supported: only the full digest (-1 or \(digest.bytes.count)) is, so every block can be verified")
            }
            let multihash = try Multihash(code: Multicodec(rawValue: algorithm.multihashCode)!, digest: digest.bytes)
            return version0 ? try CID.v0(multihash) : CID.v1(codec: codec, multihash: multihash)
        }
    }

    /// Every part of the body is one block: hashed here, stored, and (with `pin`) pinned; the
    /// whole request commits once, durably, before any `{"Key","Size"}` line is sent.
    static func put(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        let format = try Format(request)
        let pin = try request.bool("pin", default: false)
        let allowBig = try request.bool("allow-big-block", default: false)
        var reader = try MultipartReader(body: request.request.body, contentType: request.request.headers[.contentType],
                                         maxBytes: state.configuration.limits.maxBodyBytes)
        let results: [JSONValue] = try await WriterSession.with(state) { session in
            var results: [JSONValue] = []
            while try await reader.nextPart() != nil {
                var bytes: [UInt8] = []
                while let chunk = try await reader.nextChunk() {
                    bytes.append(contentsOf: chunk.readableBytesView)
                    if bytes.count > (allowBig ? BlockLimits.hard : BlockLimits.soft) {
                        throw RPCError.client(allowBig
                            ? "block is over the hard limit of \(BlockLimits.hard) bytes"
                            : "produced block is over 2MiB: big blocks can't be exchanged with other peers. consider using UnixFS for automatic chunking of bigger files, or pass --allow-big-block to override")
                    }
                }
                let block = bytes
                let cid = try format.cid(of: block)
                try await session.run { writer in
                    // The CID was just computed from these bytes: the store need not hash them again.
                    _ = try writer.put(Block(cid: cid, bytes: block), verify: false)
                    if pin { try writer.pin(cid, recursive: true) }
                }
                results.append(.object([("Key", .string(cid.description)), ("Size", .int(block.count))]))
            }
            guard !results.isEmpty else { throw RPCError.client("file argument 'data' is required") }
            return results
        }
        return RPCOutput.values(results)
    }

    static func remove(_ request: RPCRequest, _ state: ServerState) async throws -> Response {
        guard !request.arguments.isEmpty else { throw RPCError.client("argument \"cid\" is required") }
        let cids = try await state.resolve(request.arguments)
        let force = try request.bool("force", default: false)
        let quiet = try request.bool("quiet", default: false)
        let outcomes: [(CID, String)] = try await WriterSession.with(state) { session in
            try await session.run { writer in
                try zip(cids, writer.delete(cids, force: force)).map { cid, deletion -> (CID, String) in
                    switch deletion {
                    case .removed: return (cid, "")
                    case .absent: return (cid, "ipld: could not find \(cid)")
                    case .pinned(let reason): return (cid, "pinned: \(reason)")
                    }
                }
            }
        }
        let values = outcomes.filter { !quiet || !$0.1.isEmpty }.map { cid, error in
            JSONValue.object([("Hash", .string(cid.description)), ("Error", .string(error))])
        }
        let failed = outcomes.contains { !$0.1.isEmpty }
        return RPCOutput.values(values, trailerError: failed ? "some blocks not removed" : nil)
    }
}
