/// A UnixFS `Data` message that cannot be decoded: `offset` is the byte (inside the message)
/// where the problem was found.
public struct UnixFSError: Error, Hashable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "invalid UnixFS Data at byte \(offset): \(reason)" }
}

/// The UnixFS node kinds (`Data.DataType` in boxo `ipld/unixfs/pb/unixfs.proto`).
public enum UnixFSType: UInt64, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case raw = 0
    case directory = 1
    case file = 2
    case metadata = 3
    case symlink = 4
    case hamtShard = 5

    public var description: String {
        switch self {
        case .raw: return "Raw"
        case .directory: return "Directory"
        case .file: return "File"
        case .metadata: return "Metadata"
        case .symlink: return "Symlink"
        case .hamtShard: return "HAMTShard"
        }
    }
}

/// A UnixFS 1.5 modification time (`IPFSTimestamp`): signed seconds since the epoch and an
/// optional fraction. `nanoseconds == 0` means the fraction is absent (it is never written as 0).
public struct UnixFSTime: Hashable, Sendable {
    public var seconds: Int64
    /// 0 (absent) or 1 … 999 999 999.
    public var nanoseconds: UInt32

    public init(seconds: Int64, nanoseconds: UInt32 = 0) {
        precondition(nanoseconds < 1_000_000_000, "nanoseconds must be below 10^9")
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// Bytes of the embedded message body.
    @inlinable
    var encodedLength: Int {
        Wire.varintFieldSize(UInt64(bitPattern: seconds)) + (nanoseconds > 0 ? 5 : 0)
    }
}

/// The UnixFS `Data` message carried in `PBNode.Data` (ipfs/specs `unixfs.md`; boxo
/// `ipld/unixfs/pb/unixfs.proto`, proto2).
///
/// Encoding follows protobuf-go as Kubo runs it: fields in field-number order, only those set;
/// `Type` always; `blocksizes` one unpacked varint per entry; `mtime.nanos` as fixed32 only when
/// non-zero; negative seconds as a 10-byte varint.
public struct UnixFSData: Hashable, Sendable, WireEncodable {
    public var type: UnixFSType
    /// Field 2; nil = absent. Kubo's leaves carry the chunk here; internal file nodes omit it.
    public var data: [UInt8]?
    /// Field 3; nil = absent. Set on files (leaves and internal nodes, 0 for an empty file).
    public var fileSize: UInt64?
    /// Field 4: the file size under each child link, in link order.
    public var blockSizes: [UInt64]
    /// Field 5: the HAMT's hash function (Kubo: 0x22, murmur3-x64-64).
    public var hashType: UInt64?
    /// Field 6: the HAMT fanout.
    public var fanout: UInt64?
    /// Field 7: Unix permission bits (0 is never written by Kubo).
    public var mode: UInt32?
    /// Field 8.
    public var mtime: UnixFSTime?

    /// The size of the file under this node as the node declares it: `filesize`, else its own
    /// data and its children's block sizes added up. Nil when that is more than `Int64.max`
    /// (no file is that large: a malformed node, whose size must not reach arithmetic that
    /// traps, a `Content-Length` or a range).
    public var declaredSize: UInt64? {
        let limit = UInt64(Int64.max)
        if let fileSize { return fileSize <= limit ? fileSize : nil }
        var total = UInt64(data?.count ?? 0)
        for size in blockSizes {
            let (sum, overflow) = total.addingReportingOverflow(size)
            guard !overflow, sum <= limit else { return nil }
            total = sum
        }
        return total
    }

    public init(
        type: UnixFSType, data: [UInt8]? = nil, fileSize: UInt64? = nil, blockSizes: [UInt64] = [],
        hashType: UInt64? = nil, fanout: UInt64? = nil, mode: UInt32? = nil, mtime: UnixFSTime? = nil
    ) {
        self.type = type
        self.data = data
        self.fileSize = fileSize
        self.blockSizes = blockSizes
        self.hashType = hashType
        self.fanout = fanout
        self.mode = mode
        self.mtime = mtime
    }

    /// A basic directory as Kubo writes it: `Type=Directory` only (`08 01`).
    public static func directory(mode: UInt32? = nil, mtime: UnixFSTime? = nil) -> UnixFSData {
        UnixFSData(type: .directory, mode: mode, mtime: mtime)
    }

    /// A symlink: `Type=Symlink, Data=target` (no filesize).
    public static func symlink(target: [UInt8], mtime: UnixFSTime? = nil) -> UnixFSData {
        UnixFSData(type: .symlink, data: target, mtime: mtime)
    }

    /// A HAMT shard node: `Type=HAMTShard, Data=bitfield, hashType, fanout` (no filesize).
    public static func hamtShard(
        bitfield: [UInt8], fanout: UInt64, hashType: UInt64 = 0x22, mode: UInt32? = nil, mtime: UnixFSTime? = nil
    ) -> UnixFSData {
        UnixFSData(type: .hamtShard, data: bitfield, hashType: hashType, fanout: fanout, mode: mode, mtime: mtime)
    }

    /// An internal file node: `Type=File`, `filesize = Σ blockSizes`, one blocksize per child.
    public static func fileNode(blockSizes: [UInt64]) -> UnixFSData {
        UnixFSData(type: .file, fileSize: blockSizes.reduce(0, +), blockSizes: blockSizes)
    }

    /// The empty file as both layouts write it: `Type=File, filesize=0`, no Data field.
    public static var emptyFile: UnixFSData { UnixFSData(type: .file, fileSize: 0) }

    // MARK: Encoding

    public var encodedLength: Int {
        var n = Wire.varintFieldSize(type.rawValue)
        if let data { n += Wire.bytesFieldSize(data.count) }
        if let fileSize { n += Wire.varintFieldSize(fileSize) }
        for size in blockSizes { n += Wire.varintFieldSize(size) }
        if let hashType { n += Wire.varintFieldSize(hashType) }
        if let fanout { n += Wire.varintFieldSize(fanout) }
        if let mode { n += Wire.varintFieldSize(UInt64(mode)) }
        if let mtime { n += Wire.bytesFieldSize(mtime.encodedLength) }
        return n
    }

    /// Writes the message to the start of `buffer` (at least `encodedLength` bytes); returns the
    /// bytes written.
    public func encode(to buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= encodedLength, "UnixFSData buffer too small")
        let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var p = base
        func key(_ byte: UInt8) { p[0] = byte; p += 1 }
        func varint(_ value: UInt64) { p += Wire.writeVarint(value, to: p) }
        key(0x08); varint(type.rawValue)
        if let data {
            key(0x12); varint(UInt64(data.count))
            data.withUnsafeBufferPointer { if let s = $0.baseAddress { p.update(from: s, count: $0.count) } }
            p += data.count
        }
        if let fileSize { key(0x18); varint(fileSize) }
        for size in blockSizes { key(0x20); varint(size) }
        if let hashType { key(0x28); varint(hashType) }
        if let fanout { key(0x30); varint(fanout) }
        if let mode { key(0x38); varint(UInt64(mode)) }
        if let mtime {
            key(0x42); varint(UInt64(mtime.encodedLength))
            key(0x08); varint(UInt64(bitPattern: mtime.seconds))
            if mtime.nanoseconds > 0 {
                key(0x15)
                for i in 0..<4 { p[i] = UInt8(truncatingIfNeeded: mtime.nanoseconds >> (8 * UInt32(i))) }
                p += 4
            }
        }
        return p - base
    }

    /// The whole dag-pb block of a node without links carrying this message (`0a len msg`).
    public var leafBlock: [UInt8] { PBNode(links: [], data: bytes).bytes }

    // MARK: Decoding

    /// Decodes a UnixFS `Data` message strictly.
    ///
    /// Rejected with a `UnixFSError`: truncation, non-minimal or over-long varints, lengths past
    /// the end, wrong wire types, unknown fields, fields out of field-number order or repeated
    /// (only `blocksizes` repeats, consecutively), packed `blocksizes` (Kubo never packs them),
    /// a missing or unknown `Type`, `mode` above 32 bits, an `mtime` without `seconds`, with
    /// `nanos` of 0 or ≥ 10^9, or with unknown fields, and `hashType`/`fanout` on anything but a
    /// HAMT shard.
    public init(decoding message: UnsafeRawBufferPointer) throws(UnixFSError) {
        do {
            self = try UnixFSData.decode(message)
        } catch {
            throw UnixFSError(offset: error.offset, reason: error.reason)
        }
    }

    /// Decodes a UnixFS `Data` message strictly (see `init(decoding:)`).
    public init(decoding message: some Collection<UInt8>) throws(UnixFSError) {
        let array = Array(message)
        let result = array.withUnsafeBytes { raw in
            Result { () throws(UnixFSError) in try UnixFSData(decoding: raw) }
        }
        self = try result.get()
    }

    /// The message's field names, by field number − 1 (for error messages).
    static let fieldNames = ["Type", "Data", "filesize", "blocksizes", "hashType", "fanout", "mode", "mtime"]

    static func decode(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> UnixFSData {
        var reader = WireReader(bytes)
        var type: UnixFSType? = nil
        var result = UnixFSData(type: .raw)
        var lastField: UInt64 = 0
        while !reader.isAtEnd {
            let keyOffset = reader.position
            let (field, wireType) = try reader.readKey()
            guard field >= 1 && field <= 8 else {
                throw reader.fail("unknown field \(field) (wire type \(wireTypeName(wireType)))", at: keyOffset)
            }
            let name = UnixFSData.fieldNames[Int(field) - 1]
            if field == lastField && field != 4 {
                throw reader.fail("duplicate \(name) (field \(field))", at: keyOffset)
            }
            guard field >= lastField else {
                throw reader.fail("\(name) (field \(field)) after field \(lastField): fields must be in field-number order", at: keyOffset)
            }
            lastField = field
            let expected = (field == 2 || field == 8) ? Wire.lengthDelimited : Wire.varint
            guard wireType == expected else {
                let packed = field == 4 && wireType == Wire.lengthDelimited ? " (packed blocksizes are not canonical)" : ""
                throw reader.fail("\(name) (field \(field)) has wire type \(wireTypeName(wireType)), expected \(wireTypeName(expected))\(packed)", at: keyOffset)
            }
            switch field {
            case 1:
                let raw = try reader.readVarint("Type")
                guard let known = UnixFSType(rawValue: raw) else {
                    throw reader.fail("unknown UnixFS type \(raw) (0…5 exist)", at: keyOffset)
                }
                type = known
            case 2:
                result.data = Array(reader.slice(try reader.readLengthDelimited("Data")))
            case 3:
                result.fileSize = try reader.readVarint("filesize")
            case 4:
                result.blockSizes.append(try reader.readVarint("blocksizes[\(result.blockSizes.count)]"))
            case 5:
                result.hashType = try reader.readVarint("hashType")
            case 6:
                result.fanout = try reader.readVarint("fanout")
            case 7:
                let mode = try reader.readVarint("mode")
                guard mode <= UInt64(UInt32.max) else {
                    throw reader.fail("mode \(mode) does not fit in 32 bits", at: keyOffset)
                }
                result.mode = UInt32(mode)
            default:
                let range = try reader.readLengthDelimited("mtime")
                result.mtime = try decodeTime(reader.slice(range), origin: range.lowerBound)
            }
        }
        guard let type else {
            throw WireError(offset: bytes.count, reason: "required field Type (1) is missing")
        }
        result.type = type
        if type != .hamtShard && (result.hashType != nil || result.fanout != nil) {
            throw WireError(offset: 0, reason: "hashType/fanout are only allowed on HAMTShard nodes, not \(type)")
        }
        return result
    }

    static func decodeTime(_ bytes: UnsafeRawBufferPointer, origin: Int) throws(WireError) -> UnixFSTime {
        var reader = WireReader(bytes, origin: origin)
        var seconds: Int64? = nil
        var nanos: UInt32 = 0
        var lastField: UInt64 = 0
        while !reader.isAtEnd {
            let keyOffset = reader.position
            let (field, wireType) = try reader.readKey()
            guard field == 1 || field == 2 else {
                throw reader.fail("unknown mtime field \(field); only seconds (1) and nanos (2) exist", at: keyOffset)
            }
            guard field > lastField else {
                throw reader.fail("mtime field \(field) repeated or out of order", at: keyOffset)
            }
            lastField = field
            if field == 1 {
                guard wireType == Wire.varint else {
                    throw reader.fail("mtime seconds has wire type \(wireTypeName(wireType)), expected varint (0)", at: keyOffset)
                }
                seconds = Int64(bitPattern: try reader.readVarint("mtime seconds"))
            } else {
                guard wireType == Wire.fixed32 else {
                    throw reader.fail("mtime nanos has wire type \(wireTypeName(wireType)), expected fixed32 (5)", at: keyOffset)
                }
                nanos = try reader.readFixed32("mtime nanos")
                guard nanos >= 1 && nanos <= 999_999_999 else {
                    throw reader.fail("mtime nanos \(nanos) outside 1…999999999 (0 must be omitted)", at: keyOffset)
                }
            }
        }
        guard let seconds else {
            throw WireError(offset: origin, reason: "mtime has no seconds field")
        }
        return UnixFSTime(seconds: seconds, nanoseconds: nanos)
    }
}
