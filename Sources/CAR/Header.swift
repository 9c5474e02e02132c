public import Multiformats
import CairnSystem
import Foundation

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
        var input = WholeHeader(bytes: bytes, base: fileOffset)
        return try decode(from: &input, rootsInMemory: Int.max)
    }

    /// The same, from `input` read item by item (a header bigger than the read buffer is never
    /// held whole); past `rootsInMemory` bytes the roots spill to a temporary file (`CARRoots`).
    static func decode(from input: inout some HeaderInput, rootsInMemory: Int) throws(CARError) -> CARv1Header {
        let start = input.offset
        var r = try input.reader()
        let (major, count) = try r.head()
        input.advance(r.position)
        guard major == 5 else { throw CARError(.invalidHeader, "the CAR header is not a dag-cbor map", offset: start) }
        var roots: CARRoots? = nil
        var version: UInt64? = nil
        for _ in 0..<count {
            let keyAt = input.offset
            r = try input.reader()
            let key = try r.text()
            input.advance(r.position)
            func fail(_ message: String) -> CARError { CARError(.invalidHeader, message, offset: keyAt) }
            switch key {
            case "roots":
                guard roots == nil else { throw fail("the CAR header has 'roots' twice") }
                r = try input.reader()
                let (arrayMajor, n) = try r.head()
                input.advance(r.position)
                guard arrayMajor == 4 else { throw fail("the CAR header's 'roots' is not an array") }
                guard n <= UInt64(input.remaining) else { throw fail("the CAR header's 'roots' array is longer than the header") }
                var list = CARRoots(memoryLimit: rootsInMemory)
                for _ in 0..<n {
                    r = try input.reader()
                    try list.appendSpilling(try r.cidLink())
                    input.advance(r.position)
                }
                roots = list
            case "version":
                guard version == nil else { throw fail("the CAR header has 'version' twice") }
                r = try input.reader()
                let (intMajor, value) = try r.head()
                input.advance(r.position)
                guard intMajor == 0 else { throw fail("the CAR header's 'version' is not an unsigned integer") }
                version = value
            default:
                throw fail("unexpected key '\(key)' in the CAR header")
            }
        }
        guard input.remaining == 0 else {
            throw CARError(.invalidHeader, "\(input.remaining) bytes after the CAR header map", offset: input.offset)
        }
        guard let version else { throw CARError(.invalidHeader, "the CAR header has no 'version'", offset: start) }
        if version == 1 && roots == nil {
            throw CARError(.invalidHeader, "the CARv1 header has no 'roots'", offset: start)
        }
        return CARv1Header(rootList: roots ?? CARRoots(), version: version)
    }
}

/// A CARv1 header's bytes, handed to the decoder one dag-cbor item at a time: the whole header
/// at once (`WholeHeader`), or the reader's buffer piece by piece (`CARReader`), so that a
/// 32 MiB header is never copied whole.
protocol HeaderInput {
    /// File offset of the cursor.
    var offset: UInt64 { get }
    /// Header bytes after the cursor.
    var remaining: Int { get }
    /// At least `min(count, remaining)` header bytes from the cursor (not past the header).
    mutating func window(_ count: Int) throws(CARError) -> UnsafeRawBufferPointer
    mutating func advance(_ count: Int)
}

extension HeaderInput {
    /// The most bytes one item may take: a root's tag, head, prefix and longest CID fit.
    static var itemWindow: Int { 16 << 10 }

    /// A reader of the next item (the caller advances past what it read).
    mutating func reader() throws(CARError) -> CBOR.Reader {
        CBOR.Reader(bytes: try window(Self.itemWindow), base: offset)
    }
}

/// A header held whole in memory.
struct WholeHeader: HeaderInput {
    let bytes: UnsafeRawBufferPointer
    let base: UInt64
    var position = 0

    var offset: UInt64 { base + UInt64(position) }
    var remaining: Int { bytes.count - position }
    func window(_ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[position..<(position + min(count, remaining))])
    }
    mutating func advance(_ count: Int) { position += count }
}

/// The roots of a header, one after another in their binary form (each behind a 2-byte
/// length), decoded one at a time when read. A header decoded by the reader keeps at most
/// `memoryLimit` bytes of them in memory (1 MiB; `CAIRN_TEST_SPILL_ROOTS` lowers it): the rest
/// go to a temporary file (unlinked at once), so 900 000 roots cost no more memory than ten
/// (spec/car.md, "Memory"). Read them with `forEachRoot`, which reports a read error; the
/// sequence's iterator stops at one.
public struct CARRoots: Sequence, Hashable, Sendable {
    /// Root bytes kept in memory by a header the reader decodes.
    static let defaultMemoryLimit = ProcessInfo.processInfo.environment["CAIRN_TEST_SPILL_ROOTS"]
        .flatMap { Int($0) }.map { Swift.max($0, 1) } ?? 1 << 20

    /// Records not yet written to `file` (all of them when nothing spilled).
    private var memory: [UInt8] = []
    private var file: RootsFile? = nil
    private var memoryLimit = Int.max
    /// Number of roots.
    public private(set) var count = 0
    /// The bytes of the binary CIDs.
    public private(set) var byteCount = 0

    public init() {}

    public init(_ cids: some Sequence<CID>) {
        for cid in cids { append(cid) }
    }

    init(memoryLimit: Int) { self.memoryLimit = memoryLimit }

    public var isEmpty: Bool { count == 0 }

    /// Appends in memory.
    public mutating func append(_ cid: CID) {
        let start = memory.count
        memory += [0, 0]
        cid.encode(into: &memory)
        let length = memory.count - start - 2
        memory[start] = UInt8(truncatingIfNeeded: length)
        memory[start + 1] = UInt8(truncatingIfNeeded: length >> 8)
        count += 1
        byteCount += length
    }

    /// Appends, writing the records to the temporary file past `memoryLimit` bytes.
    mutating func appendSpilling(_ cid: CID) throws(CARError) {
        append(cid)
        guard memory.count >= memoryLimit else { return }
        do {
            if file == nil { file = try RootsFile() }
            try file!.append(memory)
        } catch {
            throw CARError(.io, "cannot keep the CAR header's roots in a temporary file: \(error)")
        }
        memory.removeAll(keepingCapacity: true)
    }

    /// Whether the roots went to a temporary file (test hook).
    var hasSpilled: Bool { file != nil }

    /// Calls `body` with each root in order.
    public func forEachRoot(_ body: (CID) throws -> Void) throws {
        var iterator = makeIterator()
        while let root = try iterator.nextRoot() { try body(root) }
    }

    public func makeIterator() -> Iterator { Iterator(roots: self) }

    public struct Iterator: IteratorProtocol {
        let roots: CARRoots
        /// Bytes of the file read so far into `chunk`, and the cursor in it.
        private var fileOffset: Int64 = 0
        private var chunk: [UInt8] = []
        private var position = 0
        private var inMemory = false

        init(roots: CARRoots) {
            self.roots = roots
            inMemory = roots.file == nil
        }

        /// The next root; a read error of the temporary file ends the sequence.
        public mutating func next() -> CID? { try? nextRoot() }

        mutating func nextRoot() throws(CARError) -> CID? {
            if !inMemory {
                if let root = try nextFromFile() { return root }
                inMemory = true
                position = 0
            }
            guard let (start, end) = Self.record(in: roots.memory, at: position) else { return nil }
            position = end
            return Self.decode(roots.memory, start, end)
        }

        private mutating func nextFromFile() throws(CARError) -> CID? {
            guard let file = roots.file else { return nil }
            if Self.record(in: chunk, at: position) == nil {
                fileOffset += Int64(position)
                guard fileOffset < file.size else { return nil }
                chunk = [UInt8](repeating: 0, count: Int(Swift.min(Int64(64 << 10), file.size - fileOffset)))
                do {
                    try file.read(into: &chunk, at: fileOffset)
                } catch {
                    throw CARError(.io, "cannot read the CAR header's roots back from their temporary file: \(error)")
                }
                position = 0
            }
            guard let (start, end) = Self.record(in: chunk, at: position) else { return nil }
            position = end
            return Self.decode(chunk, start, end)
        }

        /// The CID bytes of the record at `at`, if it is whole in `bytes`.
        private static func record(in bytes: [UInt8], at: Int) -> (start: Int, end: Int)? {
            guard at + 2 <= bytes.count else { return nil }
            let end = at + 2 + (Int(bytes[at]) | Int(bytes[at + 1]) << 8)
            return end <= bytes.count ? (at + 2, end) : nil
        }

        private static func decode(_ bytes: [UInt8], _ start: Int, _ end: Int) -> CID {
            // These bytes were encoded from a CID by `append`: they decode.
            bytes.withUnsafeBytes { try! CID(bytes: UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
        }
    }

    public static func == (a: CARRoots, b: CARRoots) -> Bool {
        a.count == b.count && a.elementsEqual(b)
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(count) }
}

/// The spilled roots: an unlinked temporary file written once while the header is decoded
/// (before the roots are shared), then only read.
final class RootsFile: @unchecked Sendable {
    private let fd: Int32
    private let path: String
    private(set) var size: Int64 = 0

    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/cairn-roots-\(getpid())-\(UInt64.random(in: 0 ... .max))"
        fd = try SystemCall.open(path, O_RDWR | O_CREAT | O_EXCL, 0o600)
        _ = SystemCall.unlink(path)
    }

    deinit { SystemCall.close(fd) }

    func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try SystemCall.pwriteAll(fd, $0, at: size, path: path) }
        size += Int64(bytes.count)
    }

    /// Fills `buffer` from `offset`.
    func read(into buffer: inout [UInt8], at offset: Int64) throws {
        let n = try buffer.withUnsafeMutableBytes { try SystemCall.preadFull(fd, $0, at: offset, path: path) }
        guard n == buffer.count else { throw SystemError(code: EIO, call: "pread", path: path) }
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
