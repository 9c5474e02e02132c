import Blocks
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Multiformats
import NIOCore

extension GatewayStore: BlockGetter {
    /// Blocks for the UnixFS reader: always verified here (`verified` is ignored).
    func block(_ cid: CID, verified: Bool) throws -> [UInt8]? { try block(cid) }
}

extension GatewayResponder {
    /// A request that names no verifiable type (spec/gateway.md §4.3): the bytes of a UnixFS
    /// file, as a path gateway sends them, so that clients which `GET` files plainly (ipfsspec)
    /// can read them; every block is verified as it is read and the body streams 1 MiB at a
    /// time. Anything else (a directory, dag-cbor) is 400: this gateway deserialises nothing else.
    func file(_ root: CID, _ request: GatewayRequest, path: String, head: Bool) async throws -> Response {
        let segments = request.segments
        let (resolved, size) = try await store.run { store -> (ResolvedPath, UInt64) in
            let resolved = try store.resolve(root, segments)
            guard let bytes = try store.block(resolved.terminal) else { throw GatewayError(404, "block \(resolved.terminal) not found") }
            if resolved.terminal.codec == .raw { return (resolved, UInt64(bytes.count)) }
            guard resolved.terminal.codec == .dagPB, let data = try? store.unixFS(resolved.terminal, bytes).1,
                  data.type == .file || data.type == .raw else {
                throw GatewayError(400, "this is a trustless gateway: \(path) is not a UnixFS file; ask for application/vnd.ipld.raw or application/vnd.ipld.car (Accept header or ?format=)")
            }
            guard let size = data.declaredSize else { throw GatewayError.oversized(resolved.terminal) }
            return (resolved, size)
        }
        var headers = common(path: path, roots: resolved.blocks + [resolved.terminal], etag: "\"\(resolved.terminal)\"")
        headers[.contentType] = "application/octet-stream"
        headers[.contentLength] = String(size)
        if let filename = request.filename { headers[.contentDisposition] = attachmentDisposition(filename) }
        if head { return Response(status: .ok, headers: headers, body: ResponseBody()) }
        let store = self.store
        let logger = state.logger
        let terminal = resolved.terminal
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: Int(size)) { writer in
            var offset: UInt64 = 0
            while offset < size {
                let start = offset
                let chunk: ByteBuffer
                do {
                    chunk = try await store.run { store in
                        var buffer = ByteBuffer()
                        try UnixFSReader(store: store).readFile(terminal, offset: start, length: 1 << 20) { buffer.writeBytes($0) }
                        return buffer
                    }
                } catch {
                    logger.error("gateway: file \(path) cut short: \(error)")
                    throw error
                }
                guard chunk.readableBytes > 0 else { throw GatewayError(502, "file \(terminal) ends before its declared size") }
                offset += UInt64(chunk.readableBytes)
                try await writer.write(chunk)
            }
            try await writer.finish(nil)
        })
    }
}
