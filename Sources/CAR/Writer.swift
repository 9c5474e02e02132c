public import Multiformats
import Hashing
public import Blocks

/// Which CAR to write.
public enum CARFormat: Hashable, Sendable {
    /// A plain CARv1 stream: header, then sections. Works on pipes.
    case v1
    /// A CARv2: pragma, 40-byte header, the CARv1 payload, then an index (or none). Needs a
    /// seekable output: the header's data size and index offset are patched at the end.
    case v2(index: CARIndexFormat)
}

/// The index written after a CARv2 payload.
public enum CARIndexFormat: Hashable, Sendable {
    /// No index (index offset 0).
    case none
    /// `0x0400` IndexSorted: buckets by digest length only.
    case sorted
    /// `0x0401` MultihashIndexSorted: buckets by multihash code, then digest length. go-car's default.
    case multihashSorted

    /// The multicodec code that starts the index.
    public var codec: UInt64? {
        switch self {
        case .none: return nil
        case .sorted: return 0x0400
        case .multihashSorted: return 0x0401
        }
    }
}

/// What a finished write produced.
public struct CARWriteSummary: Hashable, Sendable {
    public var roots: [CID]
    /// Sections written.
    public var blockCount: Int
    /// Block bytes written (excluding CIDs and length prefixes).
    public var blockBytes: UInt64
    /// Bytes of the whole file.
    public var totalBytes: UInt64
    /// Bytes of the CARv1 payload (the whole file for CARv1).
    public var dataSize: UInt64
    /// Entries in the CARv2 index (identity CIDs are not indexed).
    public var indexEntries: Int
}

/// Streams a CARv1 or CARv2 to a `CAROutput`.
///
/// Memory: blocks are written through as they come (nothing is kept but, for CARv2, one
/// index entry per block: its multihash and offset, about 100 bytes). The writer does not
/// check blocks against their CIDs: callers pass blocks they computed or verified
/// (`CARExport` verifies what its block getter returns).
///
/// Roots known only at the end: pass placeholders of the same binary length to `init` and the
/// real roots to `finish(roots:)`, which patches the header in place. If the length differs
/// (e.g. an identity-CID root) the payload is shifted in place, one pass over the file.
public struct CARWriter<Output: CAROutput> {
    public private(set) var output: Output
    public let format: CARFormat
    public private(set) var roots: [CID]
    /// File offset of the CARv1 payload (0 for CARv1, 51 for CARv2).
    public let dataOffset: UInt64
    /// Length of `varint + dag-cbor header` as written.
    private var headerLength: UInt64
    /// Bytes of the CARv1 payload written so far.
    public private(set) var dataSize: UInt64
    public private(set) var blockCount = 0
    public private(set) var blockBytes: UInt64 = 0
    private var entries: [(Multihash, UInt64)] = []
    private var finished = false

    /// The 11-byte CARv2 pragma: `varint(10)` and the dag-cbor map `{"version": 2}`.
    public static var v2Pragma: [UInt8] { [0x0a, 0xa1, 0x67, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x02] }
    /// Pragma + 40-byte header.
    public static var v2PrefixLength: UInt64 { 51 }

    /// Writes the header(s) at once.
    public init(output: Output, roots: [CID], format: CARFormat = .v1) throws {
        var out = output
        var offset: UInt64 = 0
        if case .v2 = format {
            guard out.isSeekable else {
                throw CARError(.invalidUse, "a CARv2 needs a seekable output (a file, not a pipe)")
            }
            var prefix = CARWriter.v2Pragma
            prefix.append(contentsOf: repeatElement(0, count: 40))
            try prefix.withUnsafeBytes { raw in try out.write(raw) }
            offset = CARWriter.v2PrefixLength
        }
        let header = CARv1Header(roots: roots).framed
        try header.withUnsafeBytes { raw in try out.write(raw) }
        self.output = out
        self.format = format
        self.roots = roots
        self.dataOffset = offset
        self.headerLength = UInt64(header.count)
        self.dataSize = UInt64(header.count)
    }

    /// Appends one section: `varint(len(cid) + len(data)) cid data`.
    public mutating func put(_ cid: CID, _ bytes: BlockBytes) throws {
        precondition(!finished, "CARWriter used after finish()")
        let cidLength = cid.encodedLength
        let sectionLength = UInt64(cidLength + bytes.count)
        let offset = dataSize
        try withUnsafeTemporaryAllocation(byteCount: Varint.maxLength + cidLength, alignment: 8) { (scratch) throws in
            var n = Varint.encode(sectionLength, to: scratch)
            n += cid.encode(to: UnsafeMutableRawBufferPointer(rebasing: scratch[n...]))
            try output.write(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
            dataSize += UInt64(n)
        }
        try output.write(bytes.prefix)
        try output.write(bytes.body)
        try output.write(bytes.suffix)
        dataSize += UInt64(bytes.count)
        blockCount += 1
        blockBytes += UInt64(bytes.count)
        if case .v2(let index) = format, index != .none, cid.multihash.code != .identity {
            entries.append((cid.multihash, offset))  // offset from the payload start
        }
    }

    /// Appends one section.
    public mutating func put(_ cid: CID, _ bytes: UnsafeRawBufferPointer) throws {
        try put(cid, BlockBytes(body: bytes))
    }

    /// Appends one section: an owned block (the two forms above are the borrowed ones, for
    /// the importer's and the exporter's hot paths).
    public mutating func put(_ block: Block) throws {
        try block.bytes.withUnsafeBytes { raw in try put(block.cid, BlockBytes(body: raw)) }
    }

    /// Ends the CAR: replaces the roots if `roots` is given, writes the CARv2 index and header,
    /// and flushes. The writer must not be used afterwards (except to read `output`).
    @discardableResult
    public mutating func finish(roots newRoots: [CID]? = nil) throws -> CARWriteSummary {
        precondition(!finished, "CARWriter.finish() called twice")
        finished = true
        if let newRoots, newRoots != roots {
            let header = CARv1Header(roots: newRoots).framed
            let range = dataOffset..<(dataOffset + headerLength)
            try header.withUnsafeBytes { raw in try output.replace(range, with: raw) }
            let newLength = UInt64(header.count)
            if newLength != headerLength {
                // Section offsets are relative to the payload start, which includes the header.
                for i in entries.indices {
                    entries[i].1 = entries[i].1 - headerLength + newLength
                }
                dataSize = dataSize - headerLength + newLength
                headerLength = newLength
            }
            roots = newRoots
        }
        var total = dataOffset + dataSize
        if case .v2(let index) = format {
            var indexOffset: UInt64 = 0
            if let codec = index.codec {
                indexOffset = total
                var bytes = Varint.encode(codec)
                CARIndexEncoding.appendBuckets(entries, multihashCodes: index == .multihashSorted, to: &bytes)
                try bytes.withUnsafeBytes { raw in try output.write(raw) }
                total += UInt64(bytes.count)
            }
            var header = [UInt8](repeating: 0, count: 16)   // characteristics: none set
            appendLE(dataOffset, to: &header)
            appendLE(dataSize, to: &header)
            appendLE(indexOffset, to: &header)
            try header.withUnsafeBytes { raw in try output.replace(11..<51, with: raw) }
        }
        try output.flush()
        return CARWriteSummary(roots: roots, blockCount: blockCount, blockBytes: blockBytes, totalBytes: total,
                               dataSize: dataSize, indexEntries: entries.count)
    }
}

@inline(__always)
func appendLE(_ value: UInt64, to out: inout [UInt8]) {
    for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
}

@inline(__always)
func appendLE(_ value: UInt32, to out: inout [UInt8]) {
    for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
}

/// The index layouts as go-car writes them (ipld/go-car v2/index/indexsorted.go and
/// mhindexsorted.go), which differ from the written spec: a leading int32 bucket count, and
/// each bucket's "count" field holds bytes (entries × width), not entries. See spec/car.md.
enum CARIndexEncoding {
    static func appendBuckets(_ entries: [(Multihash, UInt64)], multihashCodes: Bool, to out: inout [UInt8]) {
        if multihashCodes {
            let byCode = Dictionary(grouping: entries, by: { $0.0.code.rawValue })
            appendLE(UInt32(byCode.count), to: &out)
            for code in byCode.keys.sorted() {
                appendLE(code, to: &out)
                appendWidthBuckets(byCode[code]!, to: &out)
            }
        } else {
            appendWidthBuckets(entries, to: &out)
        }
    }

    /// int32 bucket count, then per digest length (ascending): width u32, bytes u64, records.
    static func appendWidthBuckets(_ entries: [(Multihash, UInt64)], to out: inout [UInt8]) {
        let byLength = Dictionary(grouping: entries, by: { $0.0.length })
        appendLE(UInt32(byLength.count), to: &out)
        for length in byLength.keys.sorted() {
            let records = byLength[length]!.map { ($0.0.digest, $0.1) }.sorted { a, b in
                a.0.lexicographicallyPrecedes(b.0) || (a.0 == b.0 && a.1 < b.1)
            }
            let width = length + 8
            appendLE(UInt32(width), to: &out)
            appendLE(UInt64(width * records.count), to: &out)
            for (digest, offset) in records {
                out.append(contentsOf: digest)
                appendLE(offset, to: &out)
            }
        }
    }
}
