import Blocks
import CAR
import CairnSystem
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Multiformats
import NIOCore

/// The trustless gateway under `/ipfs/` and `/ipns/` (spec/gateway.md).
struct GatewayResponder: Sendable {
    let state: ServerState
    let store: GatewayStore
    let verified: VerifiedBlocks

    init(state: ServerState) {
        self.state = state
        self.store = GatewayStore(layout: state.configuration.store, pool: state.pool)
        verified = VerifiedBlocks(layout: state.configuration.store, capacity: state.configuration.limits.verifiedBlockCacheBytes)
    }

    static let immutable = "public, max-age=29030400, immutable"
    /// The methods the gateway answers (`Allow`).
    static let allowed = "GET, HEAD, OPTIONS"

    func respond(to request: Request, context: ServerRequestContext) async throws -> Response {
        // OPTIONS (a browser's preflight) is a no-op answered 200 with the methods allowed,
        // and other methods 405 with them and boxo's text (boxo gateway/handler.go).
        if request.method == .options {
            var headers = HTTPFields()
            headers[.allow] = GatewayResponder.allowed
            return Response(status: .ok, headers: headers, body: ResponseBody())
        }
        guard request.method == .get || request.method == .head else {
            return GatewayResponder.error(GatewayError(405, "Method \(request.method) not allowed: read only access"), allow: true)
        }
        do {
            let query = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
            var parsed = try GatewayRequest(path: request.uri.path, query: query, accept: request.headers[.accept])
            parsed.isConnected = context.isConnected
            let head = request.method == .head
            let onlyIfCached = request.headers[.cacheControl]?.contains("only-if-cached") ?? false
            if parsed.namespace == "ipns" {
                return try await ipns(parsed, path: request.uri.path, head: head, onlyIfCached: onlyIfCached, range: request.headers[.range])
            }
            guard let root = try? CID(parsed.root) else {
                throw GatewayError(400, "invalid CID \"\(parsed.root)\"")
            }
            return try await ipfs(root, parsed, path: request.uri.path, head: head, onlyIfCached: onlyIfCached, range: request.headers[.range])
        } catch let error as GatewayError {
            return GatewayResponder.error(error)
        } catch {
            state.logger.error("gateway: \(error)")
            return GatewayResponder.error(GatewayError(500, "\(error)"))
        }
    }

    /// An `/ipfs/{root}/{path}` request: 404 (412 with `only-if-cached`) when the root block is
    /// absent, else the raw block or the CAR stream.
    func ipfs(_ root: CID, _ parsed: GatewayRequest, path: String, head: Bool, onlyIfCached: Bool, range: String?) async throws -> Response {
        let absent = GatewayError(onlyIfCached ? 412 : 404, "block \(root) not found")
        if case .raw = parsed.format, parsed.segments.isEmpty {
            let generation = verified.generation(writes: state.writes.value)
            if let block = verified.block(root, at: generation) {
                return raw(root, block, parsed, path: path, range: range, head: head)
            }
            // One trip to the store: the lookup, the read and the hash together.
            guard let block = try await store.run({ try $0.verifiedBuffer(root) }) else { throw absent }
            if root.multihash.code != .identity { verified.insert(root, block, at: generation) }
            return raw(root, block, parsed, path: path, range: range, head: head)
        }
        guard try await store.run({ try $0.has(root) }) else { throw absent }
        switch parsed.format {
        case .raw:
            throw GatewayError(400, "a raw block is asked for by CID alone (/ipfs/{cid}), not with a path")
        case let .car(parameters):
            return try await car(root, parsed, parameters, path: path, head: head)
        case .ipnsRecord:
            throw GatewayError(400, "format=ipns-record is only for /ipns/ names")
        case .file:
            return try await file(root, parsed, path: path, head: head)
        }
    }

    // MARK: Raw blocks

    /// A verified raw block: whole, one range, or several (`multipart/byteranges`).
    private func raw(_ root: CID, _ block: ByteBuffer, _ request: GatewayRequest, path: String, range: String?, head: Bool) -> Response {
        let name = root.description
        let size = block.readableBytes
        var headers = common(path: path, roots: name, etag: "\"\(name).raw\"")
        headers[.contentType] = GatewayRequest.rawType
        headers[.contentDisposition] = attachmentDisposition(request.filename ?? "\(name).bin")
        headers[.acceptRanges] = "bytes"
        var ranges = range.flatMap { ByteRanges.parse($0, size: size) }
        // Ranges adding up to more than the block are ignored and the whole block is sent, as
        // Go's http.ServeContent (Kubo's gateway) does: a header of a few KB repeating
        // `0-1048575` must not build a reply of gigabytes (RFC 9110 §14.2 allows ignoring).
        if let some = ranges, some.reduce(0, { $0 + $1.count }) > size { ranges = nil }
        switch ranges {
        case nil:
            return body(block, status: .ok, headers: headers, head: head)
        case let ranges? where ranges.isEmpty:
            // As Go's http.ServeContent answers it (Kubo's gateway serves raw blocks through it):
            // an error in plain text, without the content's validators and caching (Go ≥ 1.23
            // drops `Etag` and `Cache-Control` from its error answers), with `Content-Range`.
            headers[.contentRange] = "bytes */\(size)"
            headers[.contentType] = "text/plain; charset=utf-8"
            headers[.eTag] = nil
            headers[.cacheControl] = nil
            headers[.contentDisposition] = nil
            return body(ByteBuffer(string: "invalid range: failed to overlap\n"), status: .rangeNotSatisfiable, headers: headers, head: head)
        case let ranges? where ranges.count == 1:
            headers[.contentRange] = "bytes \(ranges[0].lowerBound)-\(ranges[0].upperBound)/\(size)"
            return body(block.getSlice(at: ranges[0].lowerBound, length: ranges[0].count)!, status: .partialContent, headers: headers, head: head)
        case let ranges?:
            let boundary = "cairn-" + String(UInt64.random(in: 1...UInt64.max), radix: 16)
            var multipart = ByteBuffer()
            for range in ranges {
                multipart.writeString("--\(boundary)\r\nContent-Type: \(GatewayRequest.rawType)\r\n"
                    + "Content-Range: bytes \(range.lowerBound)-\(range.upperBound)/\(size)\r\n\r\n")
                multipart.writeImmutableBuffer(block.getSlice(at: range.lowerBound, length: range.count)!)
                multipart.writeString("\r\n")
            }
            multipart.writeString("--\(boundary)--\r\n")
            headers[.contentType] = "multipart/byteranges; boundary=\(boundary)"
            return body(multipart, status: .partialContent, headers: headers, head: head)
        }
    }

    func body(_ bytes: ByteBuffer, status: HTTPResponse.Status, headers: HTTPFields, head: Bool) -> Response {
        var headers = headers
        headers[.contentLength] = String(bytes.readableBytes)
        return Response(status: status, headers: headers, body: head ? ResponseBody() : ResponseBody(byteBuffer: bytes))
    }

    // MARK: CAR streams

    private func car(_ root: CID, _ request: GatewayRequest, _ parameters: CARParameters, path: String, head: Bool) async throws -> Response {
        let segments = request.segments
        let resolved = try await store.run { store in
            let resolved = try store.resolve(root, segments)
            guard try store.has(resolved.terminal) else { throw GatewayError(404, "block \(resolved.terminal) not found") }
            return resolved
        }
        let tag = [path, request.scope.rawValue, request.entityBytes.map { "\($0.from):\($0.to.map(String.init) ?? "*")" } ?? "",
                   parameters.contentType].joined(separator: "|")
        var headers = common(path: path, roots: resolved.blocks + [resolved.terminal],
                             etag: "W/\"\(root).car.\(String(fnv1a(tag), radix: 36))\"")
        headers[.contentType] = parameters.contentType
        headers[.contentDisposition] = attachmentDisposition(request.filename ?? "\(root).car")
        headers[.acceptRanges] = "none"
        // HEAD: the CAR's length is not known before it is made, so none is given (an empty
        // body would claim `Content-Length: 0`).
        if head { return Response(status: .ok, headers: headers, body: ResponseBody { writer in try await writer.finish(nil) }) }
        let walk = CARWalk(resolved, scope: request.scope, entityBytes: request.entityBytes, duplicates: parameters.duplicates)
        let store = self.store
        let logger = state.logger
        let header = CARv1Header(roots: [root]).framed
        // Three stages at once: while the event loop sends batch N-1, batch N is verified and
        // batch N+1 is read (the walk follows links as it reads, so reads stay in order; a
        // batch is sent only once its own check has passed). At most three batches, about
        // 12 MiB, are held, in a ring of reused buffers (`BufferRing`). 4 MiB batches: 16
        // blocks of 256 KiB fill the lanes of the hash kernel on both cores of the figures' host
        // (1 MiB batches: 0.74 GiB/s; 4 and 8 MiB: 0.95 read and verified in one stage).
        // Child tasks (`async let`), so that they run wherever the response's task runs.
        // A failed batch ends the stream without its last chunk (never a bad byte), logged here.
        let ring = BufferRing<ByteBuffer>(slots: 4)  // read, verified, sent, still held by the connection
        let check = BatchCheck()
        struct Batch: Sendable {
            var buffer: ByteBuffer
            var blocks: [(cid: CID, offset: Int, length: Int)]
            /// The walk ended with this batch (a batch may be empty and not the last: the walk
            /// stopped at its step limit among blocks that are not sent again).
            var last: Bool
        }
        @Sendable func logged<T: Sendable>(_ body: @escaping @Sendable (GatewayStore) throws -> T) async throws -> T {
            do {
                return try await store.run(body)
            } catch {
                logger.error("gateway: CAR of \(path) cut short: \(error)")
                throw error
            }
        }
        @Sendable func read() async throws -> Batch {
            try await logged { store in
                var (slot, buffer) = ring.take(reusing: { $0.clear(minimumCapacity: 5 << 20) }) {
                    ByteBufferAllocator().buffer(capacity: 5 << 20)
                }
                let blocks = try walk.read(store, budget: 4 << 20, into: &buffer)
                ring.keep(buffer, in: slot)
                return Batch(buffer: buffer, blocks: blocks, last: walk.finished)
            }
        }
        @Sendable func verified(_ batch: Batch) async throws -> ByteBuffer {
            try await logged { _ in
                try check.verify(batch.blocks, in: batch.buffer)
                return batch.buffer
            }
        }
        // A client gone stops the stream before its next batch is read: dead streams neither
        // read nor hash (a hostile pass left eight closed connections' streams, each waiting
        // for its turn, to read and verify a batch of tiny blocks each, a minute of both
        // cores and 500 MB, while live answers waited).
        let isConnected = request.isConnected
        @Sendable func send(to writer: inout some ResponseBodyWriter) async throws {
            guard isConnected() else { throw CancellationError() }
            var batch = try await read()
            var sending: ByteBuffer?
            while !(batch.blocks.isEmpty && batch.last) {
                guard isConnected() else { throw CancellationError() }
                let current = batch
                async let checked = verified(current)
                async let following = read()
                if let sending, sending.readableBytes > 0 { try await writer.write(sending) }
                sending = try await checked
                batch = try await following
            }
            if let sending, sending.readableBytes > 0 { try await writer.write(sending) }
            try await writer.finish(nil)
        }
        let turn = state.streamGate
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            try await writer.write(ByteBuffer(bytes: header))
            // The ring's buffers (about 20 MiB) are taken only in the stream's turn.
            await turn.acquire()
            do {
                try await send(to: &writer)
                await turn.release()
            } catch {
                await turn.release()
                throw error
            }
        })
    }

    // MARK: Headers and errors

    func common(path: String, roots: [CID], etag: String) -> HTTPFields {
        common(path: path, roots: roots.map(\.description).joined(separator: ","), etag: etag)
    }

    /// The headers every successful answer carries; `roots` is `X-Ipfs-Roots`, already joined.
    func common(path: String, roots: String, etag: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[.cacheControl] = GatewayResponder.immutable
        headers[.eTag] = etag
        headers[.xContentTypeOptions] = "nosniff"
        headers[.vary] = "Accept"
        headers[.xIpfsPath] = path
        headers[.xIpfsRoots] = roots
        return headers
    }

    static func error(_ error: GatewayError, allow: Bool = false) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.xContentTypeOptions] = "nosniff"
        if allow { headers[.allow] = allowed }
        return Response(status: HTTPResponse.Status(code: error.status), headers: headers,
                        body: ResponseBody(byteBuffer: ByteBuffer(string: error.message + "\n")))
    }
}

/// FNV-1a (64-bit) of a string: a short, stable tag for weak Etags.
func fnv1a(_ text: String) -> UInt64 {
    text.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0100_0000_01b3 }
}

extension HTTPField.Name {
    static let xIpfsPath = HTTPField.Name("X-Ipfs-Path")!
    static let xIpfsRoots = HTTPField.Name("X-Ipfs-Roots")!
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
}
