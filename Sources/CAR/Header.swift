public import Multiformats

/// The CARv1 header: a dag-cbor map `{"roots": [CID…], "version": 1}`.
///
/// Encoding follows go-car byte for byte (dag-cbor canonical form: map keys ordered by length
/// then bytes, so `roots` before `version`; shortest integer heads; each root as tag 42 around
/// a byte string holding `0x00` and the binary CID). See spec/car.md.
public struct CARv1Header: Hashable, Sendable {
    /// The roots, compact (a header may list hundreds of thousands).
    public var rootList: CARRoots
    public var version: UInt64

    /// The roots as an array (decoded: prefer `rootList` for a header that may be large).
    public var roots: [CID] {
        get { Array(rootList) }
        set { rootList = CARRoots(newValue) }
    }

    public init(roots: [CID], version: UInt64 = 1) {
        self.rootList = CARRoots(roots)
        self.version = version
    }

    init(rootList: CARRoots, version: UInt64) {
        self.rootList = rootList
        self.version = version
    }

    /// The dag-cbor bytes (without the leading length varint).
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(20 + rootList.byteCount + 4 * rootList.count)
        out.append(0xa2)                                    // map(2)
        out.append(0x65); out.append(contentsOf: Array("roots".utf8))
        CBOR.appendHead(major: 4, UInt64(rootList.count), to: &out)
        for root in rootList {
            out.append(0xd8); out.append(42)                // tag(42)
            CBOR.appendHead(major: 2, UInt64(root.encodedLength + 1), to: &out)
            out.append(0x00)                                // multibase identity prefix
            root.encode(into: &out)
        }
        out.append(0x67); out.append(contentsOf: Array("version".utf8))
        CBOR.appendHead(major: 0, version, to: &out)
        return out
    }

    /// `varint(len) header`: what starts a CARv1 stream.
    public var framed: [UInt8] {
        let body = encoded
        var out = Varint.encode(UInt64(body.count))
        out.append(contentsOf: body)
        return out
    }

    /// Decodes the dag-cbor header bytes (exactly `bytes`, no trailing data). `fileOffset` is
    /// where they start in the file (for messages).
    ///
    /// Accepted: a definite-length map whose keys are `roots` (array of tag-42 CIDs) and
    /// `version` (unsigned integer), each at most once, in any order; `roots` may be absent
    /// only when version is not 1 (the CARv2 pragma is `{"version": 2}`). Anything else (other
    /// keys, indefinite lengths, non-minimal integer heads, a CID not prefixed by `0x00`) is
    /// rejected with a one-line error.
    public static func decode(_ bytes: UnsafeRawBufferPointer, fileOffset: UInt64 = 0) throws(CARError) -> CARv1Header {
        var reader = CBOR.Reader(bytes: bytes, base: fileOffset)
        let (major, count) = try reader.head()
        guard major == 5 else { throw reader.error("the CAR header is not a dag-cbor map") }
        var roots: CARRoots? = nil
        var version: UInt64? = nil
        for _ in 0..<count {
            let key = try reader.text()
            switch key {
            case "roots":
                guard roots == nil else { throw reader.error("the CAR header has 'roots' twice") }
                let (arrayMajor, n) = try reader.head()
                guard arrayMajor == 4 else { throw reader.error("the CAR header's 'roots' is not an array") }
                guard n <= UInt64(bytes.count) else { throw reader.error("the CAR header's 'roots' array is longer than the header") }
                var list = CARRoots()
                list.reserveCapacity(count: Int(n), bytes: bytes.count - reader.position)
                for _ in 0..<n { list.append(try reader.cidLink()) }
                roots = list
            case "version":
                guard version == nil else { throw reader.error("the CAR header has 'version' twice") }
                let (intMajor, value) = try reader.head()
                guard intMajor == 0 else { throw reader.error("the CAR header's 'version' is not an unsigned integer") }
                version = value
            default:
                throw reader.error("unexpected key '\(key)' in the CAR header")
            }
        }
        guard reader.position == bytes.count else {
            throw reader.error("\(bytes.count - reader.position) bytes after the CAR header map")
        }
        guard let version else { throw CARError(.invalidHeader, "the CAR header has no 'version'", offset: fileOffset) }
        if version == 1 && roots == nil {
            throw CARError(.invalidHeader, "the CARv1 header has no 'roots'", offset: fileOffset)
        }
        return CARv1Header(rootList: roots ?? CARRoots(), version: version)
    }
}

/// CIDs kept in their binary form one after another, decoded one at a time when read: a header
/// with 900 000 roots costs about 33 MB here instead of about 100 MB as `[CID]` (spec/car.md,
/// "Memory").
public struct CARRoots: RandomAccessCollection, Hashable, Sendable {
    private var bytes: [UInt8] = []
    /// Where each CID ends in `bytes`.
    private var ends: [UInt32] = []

    public init() {}

    public init(_ cids: some Sequence<CID>) {
        for cid in cids { append(cid) }
    }

    /// Room for `count` CIDs of `bytes` bytes in all, without regrowing.
    public mutating func reserveCapacity(count: Int, bytes: Int) {
        ends.reserveCapacity(count)
        self.bytes.reserveCapacity(bytes)
    }

    public mutating func append(_ cid: CID) {
        cid.encode(into: &bytes)
        ends.append(UInt32(bytes.count))
    }

    /// The bytes of the binary CIDs.
    public var byteCount: Int { bytes.count }

    public var startIndex: Int { 0 }
    public var endIndex: Int { ends.count }

    public subscript(position: Int) -> CID {
        let start = position == 0 ? 0 : Int(ends[position - 1])
        let end = Int(ends[position])
        // These bytes were encoded from a CID by `append`: they decode.
        return bytes.withUnsafeBytes { try! CID(bytes: UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
    }
}

/// The few dag-cbor pieces a CAR header needs.
enum CBOR {
    static func appendHead(major: UInt8, _ value: UInt64, to out: inout [UInt8]) {
        let m = major << 5
        switch value {
        case 0..<24: out.append(m | UInt8(value))
        case 24..<0x100: out.append(m | 24); out.append(UInt8(value))
        case 0x100..<0x10000:
            out.append(m | 25)
            out.append(UInt8(value >> 8)); out.append(UInt8(truncatingIfNeeded: value))
        case 0x10000..<0x1_0000_0000:
            out.append(m | 26)
            for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        default:
            out.append(m | 27)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        let base: UInt64
        var position = 0

        init(bytes: UnsafeRawBufferPointer, base: UInt64) {
            self.bytes = bytes
            self.base = base
        }

        func error(_ message: String) -> CARError {
            CARError(.invalidHeader, message, offset: base + UInt64(position))
        }

        mutating func byte() throws(CARError) -> UInt8 {
            guard position < bytes.count else { throw error("the CAR header ends inside a dag-cbor item") }
            defer { position += 1 }
            return bytes[position]
        }

        /// A major type and its argument; only definite, shortest-form heads.
        mutating func head() throws(CARError) -> (major: UInt8, value: UInt64) {
            let start = position
            let initial = try byte()
            let major = initial >> 5
            let info = initial & 0x1f
            let value: UInt64
            switch info {
            case 0..<24: value = UInt64(info)
            case 24...27:
                let n = 1 << Int(info - 24)
                var v: UInt64 = 0
                for _ in 0..<n { v = v << 8 | UInt64(try byte()) }
                let minimum: UInt64 = info == 24 ? 24 : (1 << (4 << Int(info - 24)))
                guard v >= minimum else {
                    position = start
                    throw error("non-canonical dag-cbor integer head in the CAR header")
                }
                value = v
            default:
                position = start
                throw error("unsupported dag-cbor item (indefinite length or reserved) in the CAR header")
            }
            return (major, value)
        }

        mutating func take(_ n: UInt64) throws(CARError) -> UnsafeRawBufferPointer {
            guard n <= UInt64(bytes.count - position) else { throw error("the CAR header ends inside a dag-cbor string") }
            let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + Int(n))])
            position += Int(n)
            return slice
        }

        mutating func text() throws(CARError) -> String {
            let (major, n) = try head()
            guard major == 3 else { throw error("a CAR header map key is not a text string") }
            let raw = try take(n)
            return String(decoding: raw, as: UTF8.self)
        }

        mutating func cidLink() throws(CARError) -> CID {
            let (tagMajor, tag) = try head()
            guard tagMajor == 6 && tag == 42 else { throw error("a CAR header root is not a CID (dag-cbor tag 42)") }
            let start = position
            let (major, n) = try head()
            guard major == 2 else { throw error("a CAR header root's tag 42 does not hold a byte string") }
            let raw = try take(n)
            guard raw.count >= 2 && raw[0] == 0 else {
                position = start
                throw error("a CAR header root does not start with the 0x00 multibase prefix")
            }
            let root: CID
            do {
                root = try CID(bytes: UnsafeRawBufferPointer(rebasing: raw[1...]))
            } catch {
                position = start
                throw self.error("invalid root CID in the CAR header: \(error)")
            }
            do {
                try root.checkSecure()
            } catch {
                position = start
                throw CARError(.insecureCID, "root \(root) in the CAR header: \(error.message)", offset: base + UInt64(start))
            }
            return root
        }
    }
}
