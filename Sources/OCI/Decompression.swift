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
    /// `outputDigested`: every output byte is covered by a digest that is checked (a layer's
    /// diff_id), so gzip's CRC-32 is redundant and skipped.
    static func make(_ compression: Compression, name: String, outputDigested: Bool = false) throws(OCIError) -> StreamDecoder? {
        switch compression {
        case .none: return nil
        case .gzip: return try GzipDecoder(name: name, checkCRC: !outputDigested)
        case .zstd: return try ZstdDecoder(name: name)
        }
    }
}

/// gzip (RFC 1952), every member of a multi-member stream (as Go's gzip reader reads them:
/// eStargz layers are one member per file). The member headers and trailers are parsed here and
/// only the deflate data goes through zlib (raw inflate, `windowBits` -15), so that the CRC-32
/// of the output is computed only when asked for (`checkCRC`): zlib's own gzip mode always
/// computes it, and on this machine that is about two thirds of the cost of inflating. A layer
/// whose tar digest is checked against a diff_id does not need it (the SHA-256 covers every
/// output byte). Each member's length (ISIZE, mod 2^32) is always checked, and each header's
/// CRC-16 when its FHCRC flag is set.
final class GzipDecoder: StreamDecoder {
    private let stream: UnsafeMutablePointer<z_stream>
    private let name: String
    private let checkCRC: Bool

    private enum State {
        /// Reading a member header: `field` is the part being read.
        case header
        case deflate
        /// Reading the 8-byte trailer (CRC-32, ISIZE).
        case trailer
        /// Between members: the input may end here.
        case memberEnd
    }
    private enum HeaderField { case fixed, extraLength, extra, name, comment, headerCRC }

    private var state = State.header
    private var field = HeaderField.fixed
    /// The header bytes or the trailer bytes read so far (a header's fixed part is 10 bytes).
    private var small: [UInt8] = []
    private var flags: UInt8 = 0
    private var skip = 0
    /// The CRC-32 of the header so far (for FHCRC), and of the member's output (`checkCRC`).
    private var headerCRC: uLong = 0
    private var crc: uLong = 0
    /// The member's output so far, mod 2^32.
    private var memberSize: UInt32 = 0

    init(name: String, checkCRC: Bool = true) throws(OCIError) {
        self.name = name
        self.checkCRC = checkCRC
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // Negative window bits: raw deflate, no wrapper (the gzip framing is parsed here).
        guard inflateInit2_(stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            stream.deallocate()
            throw OCIError(.badCompression, "\(name): cannot start zlib")
        }
        startMember()
    }

    deinit {
        _ = inflateEnd(stream)
        stream.deallocate()
    }

    private func startMember() {
        state = .header
        field = .fixed
        small.removeAll(keepingCapacity: true)
        headerCRC = crc32(0, nil, 0)
        crc = crc32(0, nil, 0)
        memberSize = 0
    }

    private func damaged(_ reason: String) -> OCIError {
        OCIError(.badCompression, "\(name): damaged gzip stream (\(reason))")
    }

    func step(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer) throws(OCIError) -> (consumed: Int, produced: Int) {
        var consumed = 0, produced = 0
        while true {
            switch state {
            case .memberEnd:
                guard consumed < input.count else { return (consumed, produced) }
                startMember()  // another member starts
            case .header:
                guard consumed < input.count else { return (consumed, produced) }
                consumed += try readHeader(UnsafeRawBufferPointer(rebasing: input[consumed...]))
            case .trailer:
                guard consumed < input.count else { return (consumed, produced) }
                let count = min(8 - small.count, input.count - consumed)
                small.append(contentsOf: input[consumed..<consumed + count])
                consumed += count
                if small.count == 8 { try endMember() }
            case .deflate:
                let rest = UnsafeRawBufferPointer(rebasing: input[consumed...])
                let space = UnsafeMutableRawBufferPointer(rebasing: output[produced...])
                guard !space.isEmpty else { return (consumed, produced) }
                stream.pointee.next_in = UnsafeMutablePointer(mutating: rest.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.pointee.avail_in = uInt(rest.count)
                stream.pointee.next_out = space.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(space.count)
                let status = inflate(stream, Z_NO_FLUSH)
                let used = rest.count - Int(stream.pointee.avail_in)
                let made = space.count - Int(stream.pointee.avail_out)
                if checkCRC && made > 0 {
                    crc = crc32(crc, space.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(made))
                }
                memberSize &+= UInt32(truncatingIfNeeded: made)
                consumed += used
                produced += made
                switch status {
                case Z_STREAM_END:
                    _ = inflateReset(stream)
                    state = .trailer
                    small.removeAll(keepingCapacity: true)
                case Z_OK, Z_BUF_ERROR:
                    if used == 0 && made == 0 { return (consumed, produced) }
                default:
                    throw damaged(stream.pointee.msg.map { String(cString: $0) } ?? "error \(status)")
                }
            }
        }
    }

    /// Reads header bytes from `input` (not empty); returns how many it took.
    private func readHeader(_ input: UnsafeRawBufferPointer) throws(OCIError) -> Int {
        var index = 0
        while index < input.count && state == .header {
            let byte = input[index]
            index += 1
            let fieldOfByte = field
            switch field {
            case .fixed:
                small.append(byte)
                if small.count == 1 && byte != 0x1f || small.count == 2 && byte != 0x8b {
                    throw damaged("incorrect header check")
                }
                if small.count == 3 && byte != 8 { throw damaged("unknown compression method") }
                if small.count == 4 {
                    flags = byte
                    if flags & 0xe0 != 0 { throw damaged("unknown header flags set") }
                }
                if small.count == 10 { nextField(after: .fixed) }
            case .extraLength:
                small.append(byte)
                if small.count == 2 {
                    skip = Int(small[0]) | Int(small[1]) << 8
                    small.removeAll(keepingCapacity: true)
                    if skip == 0 { nextField(after: .extra) } else { field = .extra }
                }
            case .extra:
                skip -= 1
                if skip == 0 { nextField(after: .extra) }
            case .name:
                if byte == 0 { nextField(after: .name) }
            case .comment:
                if byte == 0 { nextField(after: .comment) }
            case .headerCRC:
                small.append(byte)
                if small.count == 2 {
                    let expected = UInt16(small[0]) | UInt16(small[1]) << 8
                    guard expected == UInt16(truncatingIfNeeded: headerCRC) else { throw damaged("header crc mismatch") }
                    state = .deflate
                }
            }
            if fieldOfByte != .headerCRC {
                withUnsafeBytes(of: byte) { headerCRC = crc32(headerCRC, $0.baseAddress?.assumingMemoryBound(to: Bytef.self), 1) }
            }
        }
        return index
    }

    /// The header field after `done` (by the flags), or the deflate data once none is left.
    private func nextField(after done: HeaderField) {
        small.removeAll(keepingCapacity: true)
        let order: [(HeaderField, UInt8)] = [(.extraLength, 4), (.name, 8), (.comment, 16), (.headerCRC, 2)]
        let start: Int
        switch done {
        case .fixed: start = 0
        case .extraLength, .extra: start = 1
        case .name: start = 2
        case .comment: start = 3
        case .headerCRC: start = 4
        }
        for (next, flag) in order[start...] where flags & flag != 0 {
            field = next
            return
        }
        state = .deflate
    }

    /// The trailer is read: the member's length, and its CRC-32 if it is checked.
    private func endMember() throws(OCIError) {
        let word = { (at: Int) -> UInt32 in
            UInt32(self.small[at]) | UInt32(self.small[at + 1]) << 8 | UInt32(self.small[at + 2]) << 16 | UInt32(self.small[at + 3]) << 24
        }
        if checkCRC && word(0) != UInt32(truncatingIfNeeded: crc) { throw damaged("incorrect data check") }
        if word(4) != memberSize { throw damaged("incorrect length check") }
        state = .memberEnd
    }

    func finish() throws(OCIError) {
        guard state == .memberEnd else { throw OCIError(.badCompression, "\(name): truncated gzip stream") }
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
