internal import CZlib
internal import CZstd

/// A streaming decompressor: `step` turns some input into some output with constant memory;
/// `finish` says whether the stream ended where it should (a truncated stream is an error).
protocol StreamDecoder: AnyObject {
    /// Decompresses from `input` into `output`; returns the bytes consumed and produced.
    func step(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer) throws(OCIError) -> (consumed: Int, produced: Int)
    /// Throws if the input ended inside a stream (or held none).
    func finish() throws(OCIError)
}

enum StreamDecoders {
    static func make(_ compression: Compression, name: String) throws(OCIError) -> StreamDecoder? {
        switch compression {
        case .none: return nil
        case .gzip: return try GzipDecoder(name: name)
        case .zstd: return try ZstdDecoder(name: name)
        }
    }
}

/// gzip through zlib (RFC 1952), every member of a multi-member stream (as Go's gzip reader
/// reads them: eStargz layers are one member per file).
final class GzipDecoder: StreamDecoder {
    private let stream: UnsafeMutablePointer<z_stream>
    private let name: String
    /// True between members: the input may end here.
    private var atMemberEnd = false

    init(name: String) throws(OCIError) {
        self.name = name
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 15 window bits + 16: gzip wrapper only.
        guard inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            stream.deallocate()
            throw OCIError(.badCompression, "\(name): cannot start zlib")
        }
    }

    deinit {
        _ = inflateEnd(stream)
        stream.deallocate()
    }

    func step(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer) throws(OCIError) -> (consumed: Int, produced: Int) {
        if atMemberEnd {
            guard !input.isEmpty else { return (0, 0) }
            atMemberEnd = false  // another member starts
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(output.count)
        let status = inflate(stream, Z_NO_FLUSH)
        let consumed = input.count - Int(stream.pointee.avail_in)
        let produced = output.count - Int(stream.pointee.avail_out)
        switch status {
        case Z_OK, Z_BUF_ERROR:
            return (consumed, produced)
        case Z_STREAM_END:
            atMemberEnd = true
            _ = inflateReset(stream)
            return (consumed, produced)
        default:
            let reason = stream.pointee.msg.map { String(cString: $0) } ?? "error \(status)"
            throw OCIError(.badCompression, "\(name): damaged gzip stream (\(reason))")
        }
    }

    func finish() throws(OCIError) {
        guard atMemberEnd else { throw OCIError(.badCompression, "\(name): truncated gzip stream") }
    }
}

/// zstd through libzstd (RFC 8878), every frame of the input (skippable frames included).
final class ZstdDecoder: StreamDecoder {
    private let context: OpaquePointer
    private let name: String
    /// libzstd's last hint: 0 when a frame has just ended and been flushed.
    private var lastHint = 1

    init(name: String) throws(OCIError) {
        self.name = name
        guard let context = ZSTD_createDStream() else { throw OCIError(.badCompression, "\(name): cannot start zstd") }
        self.context = context
        _ = ZSTD_initDStream(context)
    }

    deinit { _ = ZSTD_freeDStream(context) }

    func step(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer) throws(OCIError) -> (consumed: Int, produced: Int) {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        if input.isEmpty && lastHint == 0 { return (0, 0) }
        let hint = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
        if ZSTD_isError(hint) != 0 {
            throw OCIError(.badCompression, "\(name): damaged zstd stream (\(String(cString: ZSTD_getErrorName(hint))))")
        }
        lastHint = hint
        return (inBuffer.pos, outBuffer.pos)
    }

    func finish() throws(OCIError) {
        guard lastHint == 0 else { throw OCIError(.badCompression, "\(name): truncated zstd stream") }
    }
}
