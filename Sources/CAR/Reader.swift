import Blocks
import CairnSystem
import Dispatch
import Hashing
public import Multiformats

/// Limits and knobs of a `CARReader`.
public struct CARReadOptions: Hashable, Sendable {
    /// Largest CARv1 header (go-car's default limit: 32 MiB).
    public var maxHeaderBytes = 32 << 20
    /// The most sections verified together (their hashes computed in one batch).
    static let maxBatchBlocks = 4096
    /// Largest section, CID and block together (go-car's default limit: 8 MiB).
    public var maxSectionBytes = 8 << 20
    /// Largest block unless `allowBigBlock` (Kubo's soft block limit: 2 MiB).
    public var maxBlockBytes = 2 << 20
    /// Accept blocks above `maxBlockBytes` (still bounded by `maxSectionBytes`).
    public var allowBigBlock = false
    /// Threads hashing each batch of blocks; nil = all active processors.
    public var hashThreads: Int? = nil
    /// Bytes of header roots kept in memory; past them the roots spill to a temporary file
    /// (`CARRoots`; `CAIRN_TEST_SPILL_ROOTS` lowers the default).
    public var rootsInMemory = CARRoots.defaultMemoryLimit
    /// The reusable read buffer (at least `maxSectionBytes` + 64; raised if smaller): by
    /// default room for the largest section and 64 KiB more (it is most of a pathological
    /// CAR's memory, spec/car.md "Memory").
    public var bufferBytes = (8 << 20) + (64 << 10)
    /// Verify the next batch of blocks while `forEachBlock`'s body takes the previous one,
    /// through a second buffer of `bufferBytes` (spec/car.md "Memory"): for a body that writes
    /// each block (the server's `dag/import`), the writes then overlap the hashing instead of
    /// following it.
    public var overlapsBody = false

    public init() {}
}

/// The fixed CARv2 header that follows the pragma.
public struct CARv2Header: Hashable, Sendable {
    /// The 128-bit characteristics field as two little-endian words.
    public var characteristics: (low: UInt64, high: UInt64)
    /// File offset of the CARv1 payload.
    public var dataOffset: UInt64
    /// Length of the CARv1 payload.
    public var dataSize: UInt64
    /// File offset of the index, 0 = no index.
    public var indexOffset: UInt64

    /// Bit 0 of the field as go-car numbers it (the top bit of the first byte): identity CIDs
    /// are indexed too.
    public var isFullyIndexed: Bool { characteristics.low & 0x80 != 0 }

    public static func == (a: CARv2Header, b: CARv2Header) -> Bool {
        a.characteristics == b.characteristics && a.dataOffset == b.dataOffset
            && a.dataSize == b.dataSize && a.indexOffset == b.indexOffset
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(characteristics.low); hasher.combine(characteristics.high)
        hasher.combine(dataOffset); hasher.combine(dataSize); hasher.combine(indexOffset)
    }
}

/// What the start of a CAR says.
public struct CARHeader: Hashable, Sendable {
    /// 1 or 2.
    public var version: Int
    /// The roots, compact (read them one at a time from here in a header that may be large).
    public var rootList: CARRoots
    /// The CARv2 header, nil for a CARv1.
    public var v2: CARv2Header?

    /// The roots as an array (decoded).
    public var roots: [CID] {
        get { Array(rootList) }
        set { rootList = CARRoots(newValue) }
    }
}

/// One verified block, borrowed: `bytes` is valid only during the callback.
public struct CARBlock {
    public let cid: CID
    public let bytes: UnsafeRawBufferPointer
    /// File offset of the section (its length varint).
    public let offset: UInt64
    /// Offset of the section from the start of the CARv1 payload (what a CARv2 index records).
    public let payloadOffset: UInt64
}

/// One entry of a CARv2 index.
public struct CARIndexEntry: Hashable, Sendable {
    /// The multihash code of the bucket (MultihashIndexSorted), nil for IndexSorted.
    public var code: Multicodec?
    public var digest: [UInt8]
    /// Offset of the section from the start of the CARv1 payload.
    public var offset: UInt64
}

/// Streaming CARv1/CARv2 reader with a fixed, reused buffer (`options.bufferBytes`), so any
/// CAR size reads in constant memory.
///
/// Every block is checked against its CID before the caller sees it: blocks are collected
/// per buffer fill and hashed as one batch through `BatchHasher` (multi-buffer SHA-256 where
/// the CPU has it); identity CIDs are compared byte for byte. A hash function Cairn does not
/// implement is an error, never a pass.
///
/// Use: `init` reads and checks the header(s); then `forEachBlock` once; then (CARv2 only)
/// `forEachIndexEntry`. Each loop checks Task cancellation.
///
/// A state machine in the swift-nio manner: `phase` says what the bytes at the cursor are.
public final class CARReader<Source: CARSource> {
    enum Phase { case sections, index, done }

    public private(set) var source: Source
    public let options: CARReadOptions
    public private(set) var header = CARHeader(version: 1, rootList: CARRoots(), v2: nil)
    /// File offset of the CARv1 payload (0 for a CARv1).
    public private(set) var payloadStart: UInt64 = 0

    private var phase = Phase.sections
    private var buffer: UnsafeMutableRawBufferPointer
    /// With `overlapsBody`, the other buffer: `fill` moves the unread bytes there and swaps the
    /// two, so that the bytes of the batch the body has yet to take stay where they are.
    private var spare: UnsafeMutableRawBufferPointer?
    private var start = 0
    private var end = 0
    /// File offset of `buffer[0]`.
    private var base: UInt64 = 0
    /// No byte at or after this file offset belongs to the current phase.
    private var limit: UInt64? = nil

    private var pending: [Pending] = []
    private let check: SectionCheck

    struct Pending: Sendable {
        var cid: CID
        var dataStart: Int
        var dataCount: Int
        var sectionStart: Int
    }

    /// Reads the header(s). Throws `CARError` for anything malformed.
    public init(source: Source, options: CARReadOptions = CARReadOptions()) throws(CARError) {
        self.source = source
        var options = options
        options.bufferBytes = max(options.bufferBytes, options.maxSectionBytes + 64, 64 << 10)
        self.options = options
        self.buffer = .allocate(byteCount: options.bufferBytes, alignment: 64)
        self.check = SectionCheck(threads: options.hashThreads)
        try readHeaders()
    }

    deinit {
        buffer.deallocate()
        spare?.deallocate()
    }

    /// File offset of the cursor.
    public var position: UInt64 { base + UInt64(start) }

    // MARK: Buffer

    private var visibleEnd: Int {
        if let limit, limit < base + UInt64(end) { return Int(limit - base) }
        return end
    }

    /// Compacts, then reads until the buffer is full (up to the phase limit) or the input
    /// ends. Returns the bytes read; 0 at the end of the input or of the phase.
    private func fill() throws(CARError) -> Int {
        if start > 0 {
            let keep = end - start
            if let other = spare {
                if keep > 0 { other.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: keep) }
                spare = buffer
                buffer = other
            } else if keep > 0 {
                buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: keep)
            }
            base += UInt64(start)
            end = keep
            start = 0
        }
        var room = buffer.count - end
        if let limit {
            let filled = base + UInt64(end)
            room = limit > filled ? min(room, Int(clamping: limit - filled)) : 0
        }
        // Until the buffer is full or the input ends: a stream (an upload through a pipe, stdin)
        // gives a network chunk per read, and verifying what one read brought, a block or none,
        // hashed one block at a time on one core (dag/import: 0.42 GiB/s into a store in
        // memory); a full buffer is a batch of 32 blocks for the multi-buffer kernels on every core.
        var total = 0
        while room > 0 {
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end..<(end + room)]))
            guard n > 0 else { break }
            end += n
            room -= n
            total += n
        }
        return total
    }

    /// Makes `n` bytes visible at the cursor if the input has them.
    private func ensure(_ n: Int) throws(CARError) -> Bool {
        while visibleEnd - start < n {
            if try fill() == 0 { return false }
        }
        return true
    }

    /// Moves the cursor to file offset `target` (at or after it), reading and dropping bytes.
    private func skip(to target: UInt64) throws(CARError) -> Bool {
        while base + UInt64(visibleEnd) < target {
            start = visibleEnd
            if try fill() == 0 { return false }
        }
        start = Int(target - base)
        return true
    }

    /// The varint at the cursor; nil when the input (phase) ends right here.
    private func readVarint(_ what: String, code: CARError.Code) throws(CARError) -> UInt64? {
        _ = try ensure(Varint.maxLength)
        let visible = UnsafeRawBufferPointer(rebasing: buffer[start..<visibleEnd])
        if visible.isEmpty { return nil }
        do {
            let (value, length) = try Varint.decode(visible)
            start += length
            return value
        } catch {
            if error.code == .varintTruncated {
                throw CARError(.truncated, "the CAR ends inside the \(what)", offset: position)
            }
            throw CARError(code, "invalid \(what): \(error.message)", offset: position + UInt64(error.offset ?? 0))
        }
    }

    private func readLE(_ n: Int, _ what: String) throws(CARError) -> UInt64 {
        guard try ensure(n) else { throw CARError(.truncated, "the CAR ends inside the \(what)", offset: position) }
        var value: UInt64 = 0
        for i in 0..<n { value |= UInt64(buffer[start + i]) << UInt64(8 * i) }
        start += n
        return value
    }

    // MARK: Headers

    private func readV1Header(_ what: String) throws(CARError) -> (header: CARv1Header, length: UInt64) {
        let at = position
        guard let length = try readVarint("\(what) length varint", code: .invalidHeader) else {
            throw CARError(.truncated, at == 0 ? "empty input: not a CAR" : "the CAR ends before its \(what)", offset: at)
        }
        guard length > 0 else { throw CARError(.invalidHeader, "the \(what) has length 0", offset: at) }
        guard length <= UInt64(options.maxHeaderBytes) else {
            throw CARError(.limitExceeded, "the \(what) is \(length) bytes, over the limit of \(options.maxHeaderBytes)", offset: at)
        }
        var input = HeaderWindow(reader: self, end: position + length, what: what)
        let header = try CARv1Header.decode(from: &input, rootsInMemory: options.rootsInMemory)
        return (header, position - at)
    }

    /// The header seen through the read buffer, one item at a time (`HeaderInput`).
    private struct HeaderWindow: HeaderInput {
        let reader: CARReader
        /// File offset where the header ends.
        let end: UInt64
        let what: String

        var offset: UInt64 { reader.position }
        var remaining: Int { Int(end - reader.position) }

        func window(_ count: Int) throws(CARError) -> UnsafeRawBufferPointer {
            let want = min(count, remaining)
            guard try reader.ensure(want) else {
                throw CARError(.truncated, "the CAR ends inside its \(what) (\(reader.visibleEnd - reader.start) of \(remaining) bytes left)",
                               offset: reader.position)
            }
            let visible = min(reader.visibleEnd - reader.start, remaining)
            return UnsafeRawBufferPointer(rebasing: reader.buffer[reader.start..<(reader.start + visible)])
        }

        func advance(_ count: Int) { reader.start += count }
    }

    private func readHeaders() throws(CARError) {
        let (first, firstLength) = try readV1Header("CAR header")
        switch first.version {
        case 1:
            header = CARHeader(version: 1, rootList: first.rootList, v2: nil)
            payloadStart = 0
        case 2:
            guard firstLength == 11 else {
                throw CARError(.invalidHeader, "a CARv2 must start with the 11-byte pragma {\"version\": 2}", offset: 0)
            }
            let low = try readLE(8, "CARv2 header")
            let high = try readLE(8, "CARv2 header")
            let dataOffset = try readLE(8, "CARv2 header")
            let dataSize = try readLE(8, "CARv2 header")
            let indexOffset = try readLE(8, "CARv2 header")
            let v2 = CARv2Header(characteristics: (low, high), dataOffset: dataOffset, dataSize: dataSize, indexOffset: indexOffset)
            try validate(v2)
            limit = dataOffset + dataSize
            guard try skip(to: dataOffset) else {
                throw CARError(.truncated, "the CAR ends before its data payload at byte \(dataOffset)", offset: position)
            }
            payloadStart = dataOffset
            let (inner, _) = try readV1Header("CARv2 data payload header")
            guard inner.version == 1 else {
                throw CARError(.invalidHeader, "the CARv2 data payload's header has version \(inner.version), not 1", offset: dataOffset)
            }
            header = CARHeader(version: 2, rootList: inner.rootList, v2: v2)
        default:
            throw CARError(.invalidHeader, "unsupported CAR version \(first.version) (Cairn reads 1 and 2)", offset: 0)
        }
    }

    private func validate(_ v2: CARv2Header) throws(CARError) {
        let prefix = UInt64(CARWriter<CARMemoryOutput>.v2PrefixLength)
        guard v2.dataOffset >= prefix else {
            throw CARError(.invalidHeader, "CARv2 data offset \(v2.dataOffset) lies inside the 51-byte pragma and header", offset: 11)
        }
        guard v2.dataSize > 0 else { throw CARError(.invalidHeader, "CARv2 data size is 0", offset: 11) }
        let (dataEnd, overflow) = v2.dataOffset.addingReportingOverflow(v2.dataSize)
        guard !overflow else { throw CARError(.invalidHeader, "CARv2 data offset + size overflows", offset: 11) }
        if let size = source.size, dataEnd > size {
            throw CARError(.invalidHeader,
                "CARv2 data payload (offset \(v2.dataOffset), size \(v2.dataSize)) ends past the end of the file (\(size) bytes)", offset: 11)
        }
        if v2.indexOffset != 0 {
            guard v2.indexOffset >= dataEnd else {
                throw CARError(.invalidHeader, "CARv2 index offset \(v2.indexOffset) lies inside the data payload (which ends at \(dataEnd))", offset: 11)
            }
            if let size = source.size, v2.indexOffset >= size {
                throw CARError(.invalidHeader, "CARv2 index offset \(v2.indexOffset) is past the end of the file (\(size) bytes)", offset: 11)
            }
        }
    }

    // MARK: Sections

    /// Reads every section in order, verifies each block against its CID, and calls `body`
    /// with it. Returns the number of blocks and of block bytes. Call once.
    @discardableResult
    public func forEachBlock(_ body: (CARBlock) throws -> Void) throws -> (blocks: Int, bytes: UInt64) {
        precondition(phase == .sections, "forEachBlock called twice")
        var blocks = 0
        var bytes: UInt64 = 0
        func deliver(_ batch: [Pending], base: UInt64, in buffer: UnsafeMutableRawBufferPointer) throws {
            for (index, p) in batch.enumerated() {
                // `body` may write each block (car import): 16 MiB of writes per batch.
                if index & 15 == 15 { try CancellationToken.process.check() }
                let offset = base + UInt64(p.sectionStart)
                try body(CARBlock(cid: p.cid,
                                  bytes: UnsafeRawBufferPointer(rebasing: buffer[p.dataStart..<(p.dataStart + p.dataCount)]),
                                  offset: offset, payloadOffset: offset - payloadStart))
                blocks += 1
                bytes += UInt64(p.dataCount)
            }
        }
        if options.overlapsBody {
            try overlappingBatches(deliver)
        } else {
            while true {
                try CancellationToken.process.check()
                let pos = try nextBatch()
                if !pending.isEmpty {
                    try verifyPending()
                    try deliver(pending, base: base, in: buffer)
                }
                start = pos
                if pending.count >= CARReadOptions.maxBatchBlocks { continue }  // more may wait in the buffer
                if try fill() == 0 { break }
            }
        }
        guard start == visibleEnd else {
            throw CARError(.truncated, "the CAR ends inside a section (\(visibleEnd - start) bytes of it present)", offset: position)
        }
        try finishPayload()
        return (blocks, bytes)
    }

    /// `forEachBlock` with `overlapsBody`: batch N+1 is read, then verified on other threads
    /// while `deliver` takes batch N (verified before, its bytes untouched: `fill` moves on to
    /// the other buffer). The order of everything the caller sees is unchanged: blocks in file
    /// order, batch N delivered before batch N+1's first invalid block is thrown, and `deliver`'s
    /// own failure thrown once the verification under way has ended.
    private func overlappingBatches(_ deliver: ([Pending], UInt64, UnsafeMutableRawBufferPointer) throws -> Void) throws {
        if spare == nil { spare = .allocate(byteCount: buffer.count, alignment: 64) }
        var ready: (batch: [Pending], base: UInt64, buffer: UnsafeMutableRawBufferPointer)? = nil
        while true {
            try CancellationToken.process.check()
            let pos = try nextBatch()
            let checking = !pending.isEmpty
            if checking { check.start(pending, in: UnsafeRawBufferPointer(buffer)) }
            do {
                if let ready { try deliver(ready.batch, ready.base, ready.buffer) }
            } catch {
                if checking { check.wait() }
                throw error
            }
            ready = nil
            if checking {
                check.wait()
                try throwFirstInvalid(check.verdicts)
                ready = (pending, base, buffer)
            }
            start = pos
            if pending.count >= CARReadOptions.maxBatchBlocks { continue }  // more may wait in the buffer
            if try fill() == 0 { break }
        }
        if let ready { try deliver(ready.batch, ready.base, ready.buffer) }
    }

    /// Parses the complete sections visible at the cursor into `pending` (at most
    /// `maxBatchBlocks`); returns the position after the last. Throws for a malformed section.
    private func nextBatch() throws(CARError) -> Int {
        let maxSection = UInt64(options.maxSectionBytes)
        let avail = visibleEnd
        var pos = start
        pending.removeAll(keepingCapacity: true)
        // At most `maxBatchBlocks` sections per batch: a buffer of tiny blocks would
        // otherwise hold per-block state for hundreds of thousands at once.
        while pos < avail && pending.count < CARReadOptions.maxBatchBlocks {
            let visible = UnsafeRawBufferPointer(rebasing: buffer[pos..<avail])
            let length: UInt64, varintLength: Int
            do {
                (length, varintLength) = try Varint.decode(visible)
            } catch {
                if error.code == .varintTruncated { break }   // need more bytes
                throw CARError(.invalidSection, "invalid section length varint: \(error.message)", offset: base + UInt64(pos))
            }
            let sectionOffset = base + UInt64(pos)
            guard length > 0 else { throw CARError(.invalidSection, "section of length 0", offset: sectionOffset) }
            guard length <= maxSection else {
                throw CARError(.limitExceeded, "section of \(length) bytes is over the limit of \(maxSection)", offset: sectionOffset)
            }
            let total = varintLength + Int(length)
            guard total <= avail - pos else { break }
            let section = UnsafeRawBufferPointer(rebasing: buffer[(pos + varintLength)..<(pos + total)])
            let cid: CID, cidLength: Int
            do {
                (cid, cidLength) = try CID.decode(prefixOf: section)
            } catch {
                throw CARError(.invalidSection, "invalid CID in section: \(error.message)",
                               offset: sectionOffset + UInt64(varintLength + (error.offset ?? 0)))
            }
            do {
                try cid.checkSecure()
            } catch {
                throw CARError(.insecureCID, "block \(cid): \(error.message)", offset: sectionOffset)
            }
            let dataCount = Int(length) - cidLength
            if dataCount > options.maxBlockBytes && !options.allowBigBlock {
                throw CARError(.limitExceeded,
                    "block \(cid) is \(dataCount) bytes, over the limit of \(options.maxBlockBytes) (allow with --allow-big-block)",
                    offset: sectionOffset)
            }
            pending.append(Pending(cid: cid, dataStart: pos + varintLength + cidLength, dataCount: dataCount, sectionStart: pos))
            pos += total
        }
        return pos
    }

    /// After the last section: a CARv2 payload must end exactly at its declared end, and
    /// without an index nothing may follow it.
    private func finishPayload() throws(CARError) {
        phase = .index
        guard let v2 = header.v2 else { phase = .done; return }
        let dataEnd = v2.dataOffset + v2.dataSize
        guard position == dataEnd else {
            throw CARError(.truncated, "the CAR ends at byte \(position), inside its data payload (declared to end at \(dataEnd))", offset: position)
        }
        if v2.indexOffset == 0 {
            limit = nil
            if try ensure(1) {
                throw CARError(.invalidHeader, "bytes follow the CARv2 data payload, but the header declares no index", offset: position)
            }
            phase = .done
        }
    }

    /// Checks the pending blocks together (`BlockVerifier`: grouped by hash function, each group
    /// on every core) and throws for the first one, in file order, that is not valid.
    private func verifyPending() throws(CARError) {
        check.run(pending, in: UnsafeRawBufferPointer(buffer))
        try throwFirstInvalid(check.verdicts)
    }

    /// Throws for the first pending block, in file order, whose verdict is not valid.
    private func throwFirstInvalid(_ verdicts: [BlockVerdict]) throws(CARError) {
        for (i, verdict) in verdicts.enumerated() where verdict != .valid {
            let p = pending[i]
            do {
                try BlockVerifier.throwing(verdict, p.cid, count: p.dataCount)
            } catch {
                throw CARError(error, offset: base + UInt64(p.sectionStart))
            }
        }
    }

    /// Verifies a batch of sections (`BlockVerifier`: grouped by hash function, each group on
    /// every core): `run` on the calling thread, or `start` on another one (`overlapsBody`),
    /// then `wait` before reading `verdicts` or starting the next; the batch's bytes stay put
    /// meanwhile.
    private final class SectionCheck: @unchecked Sendable {
        private var verifier: BlockVerifier
        private(set) var verdicts: [BlockVerdict] = []
        private let done = DispatchSemaphore(value: 0)

        init(threads: Int?) {
            verifier = BlockVerifier(threads: threads)
        }

        func run(_ batch: [Pending], in data: UnsafeRawBufferPointer) {
            verifier.check(count: batch.count, into: &verdicts) { i in
                let p = batch[i]
                return (p.cid, BlockBytes(UnsafeRawBufferPointer(rebasing: data[p.dataStart..<(p.dataStart + p.dataCount)])))
            }
        }

        func start(_ batch: [Pending], in data: UnsafeRawBufferPointer) {
            let base = UInt(bitPattern: data.baseAddress), count = data.count
            DispatchQueue.global().async { [self] in
                run(batch, in: UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: base), count: count))
                done.signal()
            }
        }

        func wait() { done.wait() }
    }

    // MARK: Index

    /// Reads the CARv2 index (after `forEachBlock`), checks its structure (known codec,
    /// whole entries, digests sorted per bucket, every offset inside the data payload, nothing
    /// after it) and calls `body` per entry. Returns the entry count, nil when there is no index.
    @discardableResult
    public func forEachIndexEntry(_ body: (CARIndexEntry) throws -> Void) throws -> Int? {
        precondition(phase != .sections, "forEachIndexEntry must follow forEachBlock")
        guard phase == .index, let v2 = header.v2, v2.indexOffset != 0 else { return nil }
        phase = .done
        limit = nil
        guard try skip(to: v2.indexOffset) else {
            throw CARError(.truncated, "the CAR ends before its index at byte \(v2.indexOffset)", offset: position)
        }
        let indexStart = position
        guard let codec = try readVarint("index codec varint", code: .invalidIndex) else {
            throw CARError(.truncated, "the CAR ends before its index", offset: position)
        }
        var count = 0
        switch codec {
        case 0x0400:
            try readWidthBuckets(code: nil, dataSize: v2.dataSize, count: &count, body)
        case 0x0401:
            let codes = try readInt32("index code-bucket count")
            var previous: UInt64? = nil
            for _ in 0..<codes {
                let code = try readLE(8, "index multihash code")
                if let previous, code <= previous {
                    throw CARError(.invalidIndex, "index code buckets are not in ascending order", offset: position - 8)
                }
                previous = code
                guard let multicodec = Multicodec(rawValue: code) else {
                    throw CARError(.invalidIndex, "index multihash code \(code) is out of range", offset: position - 8)
                }
                try readWidthBuckets(code: multicodec, dataSize: v2.dataSize, count: &count, body)
            }
        default:
            throw CARError(.unsupported, "index format 0x\(String(codec, radix: 16)) is not one Cairn reads (0x400 IndexSorted, 0x401 MultihashIndexSorted)", offset: indexStart)
        }
        if try ensure(1) {
            throw CARError(.invalidIndex, "bytes follow the end of the index", offset: position)
        }
        return count
    }

    private func readInt32(_ what: String) throws(CARError) -> Int {
        let at = position
        let raw = UInt32(truncatingIfNeeded: try readLE(4, what))
        let value = Int32(bitPattern: raw)
        guard value >= 0 else { throw CARError(.invalidIndex, "\(what) is negative (\(value))", offset: at) }
        return Int(value)
    }

    private func readWidthBuckets(code: Multicodec?, dataSize: UInt64, count: inout Int, _ body: (CARIndexEntry) throws -> Void) throws {
        let buckets = try readInt32("index bucket count")
        var previousWidth: UInt64 = 0
        for _ in 0..<buckets {
            let bucketOffset = position
            let width = try readLE(4, "index bucket width")
            let byteCount = try readLE(8, "index bucket size")
            guard width >= 8 + 1 && width <= 8 + UInt64(Multihash.maxDigestLength) else {
                throw CARError(.invalidIndex, "index bucket width \(width) is impossible (digest length + 8)", offset: bucketOffset)
            }
            guard width > previousWidth else {
                throw CARError(.invalidIndex, "index buckets are not in ascending width order", offset: bucketOffset)
            }
            previousWidth = width
            guard byteCount % width == 0 else {
                throw CARError(.invalidIndex, "index bucket of \(byteCount) bytes is not a whole number of \(width)-byte entries", offset: bucketOffset)
            }
            if let size = source.size, byteCount > size - min(size, position) {
                throw CARError(.invalidIndex, "index bucket claims \(byteCount) bytes, more than the rest of the file", offset: bucketOffset)
            }
            let digestLength = Int(width) - 8
            var previous: [UInt8] = []
            var entry = 0 as UInt64
            while entry < byteCount / width {
                if entry & 4095 == 0 { try CancellationToken.process.check() }
                let at = position
                guard try ensure(Int(width)) else {
                    throw CARError(.truncated, "the CAR ends inside its index", offset: position)
                }
                let digest = Array(UnsafeRawBufferPointer(rebasing: buffer[start..<(start + digestLength)]))
                start += digestLength
                let offset = try readLE(8, "index entry")
                guard offset < dataSize else {
                    throw CARError(.invalidIndex, "index entry points at payload offset \(offset), past the end of the data payload (\(dataSize) bytes)", offset: at)
                }
                if previous.count == digestLength && digest.lexicographicallyPrecedes(previous) {
                    throw CARError(.invalidIndex, "index bucket digests are not sorted", offset: at)
                }
                previous = digest
                try body(CARIndexEntry(code: code, digest: digest, offset: offset))
                count += 1
                entry += 1
            }
        }
    }
}
