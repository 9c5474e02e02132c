import CairnSystem
import Foundation
import NIOCore

/// One part's head: its `Content-Disposition` file name (percent-decoded, as go-ipfs-files
/// sends paths) and its content type.
struct MultipartPartHead: Sendable {
    var filename: String?
    var name: String?
    var contentType: String?
    /// `Abspath` (go-ipfs-files) — accepted, unused.
    var isDirectory: Bool { contentType == "application/x-directory" }
    /// A symlink: the part's body is its target (go-ipfs-files' `application/symlink`).
    var isSymlink: Bool { contentType == "application/symlink" }
}

/// A streaming `multipart/form-data` reader (RFC 7578 / RFC 2046 §5.1) over a request body:
/// parts one after another, each body in chunks, never more than a few chunks held. Malformed
/// framing (no boundary, a head over 16 KiB, a body that ends inside a part) is an
/// `RPCError` with status 400.
struct MultipartReader<Body: AsyncSequence & Sendable> where Body.Element == ByteBuffer {
    private var iterator: Body.AsyncIterator
    private let delimiter: [UInt8]  // CRLF "--" boundary
    private var buffer = ByteBuffer()
    private var ended = false
    private var inBody = false
    private var sawFirst = false
    private var received: Int64 = 0
    private let maxBytes: Int64

    init(body: Body, contentType: String?, maxBytes: Int64) throws {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/"),
              let boundary = MultipartReader.parameter("boundary", in: contentType), !boundary.isEmpty, boundary.utf8.count <= 200
        else { throw RPCError.client("file argument 'data' is required (expected a multipart/form-data body with a boundary)") }
        iterator = body.makeAsyncIterator()
        delimiter = Array("\r\n--\(boundary)".utf8)
        self.maxBytes = maxBytes
    }

    /// A `key=value` parameter of a header value (quotes removed).
    static func parameter(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == key else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }

    /// The next buffer of the request body as received (nil at its end), counted against the limit.
    private mutating func receive() async throws -> ByteBuffer? {
        guard !ended else { return nil }
        try Task.checkCancellation()  // a passed `timeout` stops an upload between reads
        guard let more = try await iterator.next() else { ended = true; return nil }
        received += Int64(more.readableBytes)
        guard received <= maxBytes else {
            throw RPCError(status: 413, message: "request body is larger than the server's limit of \(maxBytes) bytes")
        }
        return more
    }

    /// Reads more of the body into `buffer` (part heads and delimiters); false at its end.
    private mutating func fill() async throws -> Bool {
        guard var more = try await receive() else { return false }
        if buffer.readableBytes == 0 {
            buffer = more  // no copy
            return true
        }
        buffer.discardReadBytes()
        buffer.writeBuffer(&more)
        return true
    }

    /// Where `needle` first starts in the unread bytes at or after `start`.
    private func find(_ needle: [UInt8], from start: Int = 0) -> Int? {
        Self.index(of: needle, in: buffer, from: start)
    }

    /// The next part's head, or nil after the closing boundary. Skips what is left of the
    /// current part's body.
    mutating func nextPart() async throws -> MultipartPartHead? {
        while inBody { _ = try await nextChunk() }
        if !sawFirst {
            // The preamble ends at the first "--boundary" (no CRLF before it at the very start).
            buffer.writeBytes([13, 10] as [UInt8])
            sawFirst = true
        }
        guard !finishedAll else { return nil }
        // Expect the delimiter, then "--" (the end) or CRLF and a head.
        while true {
            if let at = find(delimiter) {
                if buffer.readableBytes >= at + delimiter.count + 2 {
                    buffer.moveReaderIndex(forwardBy: at + delimiter.count)
                    break
                }
            } else if buffer.readableBytes > delimiter.count {
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes - delimiter.count)  // preamble
            }
            guard try await fill() else { throw RPCError.client("malformed multipart body: no boundary where one was expected") }
        }
        if buffer.readableBytesView.starts(with: [45, 45] as [UInt8]) { finishedAll = true; return nil }
        // The rest of the delimiter line (transport padding), then the head up to an empty line.
        var headStart: Int?
        while true {
            if headStart == nil, let lineEnd = find([13, 10]) {
                buffer.moveReaderIndex(forwardBy: lineEnd + 2)
                headStart = 0
            }
            if headStart != nil {
                if buffer.readableBytesView.starts(with: [13, 10] as [UInt8]) {
                    buffer.moveReaderIndex(forwardBy: 2)
                    inBody = true
                    return MultipartPartHead()
                }
                if let end = find([13, 10, 13, 10]) {
                    let head = buffer.readBytes(length: end)!
                    buffer.moveReaderIndex(forwardBy: 4)
                    inBody = true
                    return MultipartReader.parseHead(head)
                }
            }
            guard buffer.readableBytes < 16 << 10 else { throw RPCError.client("malformed multipart body: a part head over 16 KiB") }
            guard try await fill() else { throw RPCError.client("malformed multipart body: the body ends inside a part head") }
        }
    }

    private var finishedAll = false

    /// The next piece of the current part's body, or nil at its end. Pieces are slices of the
    /// buffers the body arrives in (no copy, none larger than one received buffer): only the
    /// last `delimiter.count - 1` bytes of a buffer are held back, since a delimiter may start
    /// there and end in the next buffer. Those few bytes and the first bytes of the next buffer
    /// are checked together in a small bridge; only if a delimiter does straddle the two are
    /// they joined (once per part). Each byte is searched at most twice.
    mutating func nextChunk() async throws -> ByteBuffer? {
        guard inBody else { return nil }
        let held = delimiter.count - 1
        while true {
            if let at = find(delimiter) {
                if at == 0 { inBody = false; return nil }
                return buffer.readSlice(length: at)
            }
            // No delimiter in `buffer`: all but its last `held` bytes are body.
            if buffer.readableBytes > held { return buffer.readSlice(length: buffer.readableBytes - held) }
            guard var more = try await receive() else {
                throw RPCError.client("malformed multipart body: the body ends inside a part (no closing boundary)")
            }
            if buffer.readableBytes == 0 { buffer = more; continue }
            if more.readableBytes >= held {
                var bridge = ByteBuffer()
                bridge.reserveCapacity(buffer.readableBytes + held)
                bridge.writeImmutableBuffer(buffer)
                bridge.writeImmutableBuffer(more.getSlice(at: more.readerIndex, length: held)!)
                if MultipartReader.index(of: delimiter, in: bridge) == nil {
                    // The held bytes are body; the new buffer is searched on its own.
                    let body = buffer
                    buffer = more
                    return body
                }
            }
            buffer.writeBuffer(&more)  // a delimiter straddles the two, or `more` is tiny
        }
    }

    /// Where `needle` first starts in `bytes`' unread bytes at or after `start` (glibc's
    /// `memmem`: a body of random bytes has a CR every 256 bytes or so, and a memchr for the
    /// first byte then stopped that often; 4 % of a `dag/import`'s server CPU).
    private static func index(of needle: [UInt8], in bytes: ByteBuffer, from start: Int = 0) -> Int? {
        bytes.withUnsafeReadableBytes { raw -> Int? in
            guard raw.count - start >= needle.count else { return nil }
            return needle.withUnsafeBytes { pattern in
                ByteSearch.firstIndex(of: pattern, in: UnsafeRawBufferPointer(rebasing: raw[start...])).map { start + $0 }
            }
        }
    }

    static func parseHead(_ bytes: [UInt8]) -> MultipartPartHead {
        var head = MultipartPartHead()
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "content-disposition":
                head.name = parameter("name", in: value)
                head.filename = parameter("filename", in: value).map { $0.removingPercentEncoding ?? $0 }
            case "content-type":
                head.contentType = value.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            default: break
            }
        }
        return head
    }
}
