public import Multiformats

/// A bounds-checked cursor over dag-cbor bytes (RFC 8949, definite lengths only), decoding
/// just what is looked up in them — path keys (`CBORPath`: the gateway's and the RPC's paths)
/// and IPNS record data — and skipping everything else by its length. Errors name the offset.
public struct CBORReader {
    public let bytes: [UInt8]
    public var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { position >= bytes.count }

    func invalid(_ reason: String) -> DagCBORError {
        DagCBORError(offset: position, reason: reason)
    }

    /// An item head: major type and argument (lengths, counts, tag numbers, small values).
    public mutating func head() throws(DagCBORError) -> (major: UInt8, argument: UInt64) {
        guard position < bytes.count else { throw invalid("truncated") }
        let initial = bytes[position]
        position += 1
        let info = initial & 0x1f
        let width: Int
        switch info {
        case 0..<24: return (initial >> 5, UInt64(info))
        case 24: width = 1
        case 25: width = 2
        case 26: width = 4
        case 27: width = 8
        default: throw invalid("unsupported additional information \(info)")
        }
        guard position + width <= bytes.count else { throw invalid("truncated") }
        var value: UInt64 = 0
        for byte in bytes[position..<position + width] { value = value << 8 | UInt64(byte) }
        position += width
        return (initial >> 5, value)
    }

    public mutating func payload(_ count: UInt64) throws(DagCBORError) -> ArraySlice<UInt8> {
        guard count <= UInt64(bytes.count - position) else { throw invalid("truncated") }
        defer { position += Int(count) }
        return bytes[position..<position + Int(count)]
    }

    /// A text string (a map key).
    public mutating func text() throws(DagCBORError) -> String {
        let (major, length) = try head()
        guard major == 3 else { throw invalid("a text string was expected") }
        return String(decoding: try payload(length), as: UTF8.self)
    }

    /// A byte string.
    public mutating func byteString() throws(DagCBORError) -> [UInt8] {
        let (major, length) = try head()
        guard major == 2 else { throw invalid("a byte string was expected") }
        return Array(try payload(length))
    }

    /// An unsigned integer.
    public mutating func unsigned() throws(DagCBORError) -> UInt64 {
        let (major, value) = try head()
        guard major == 0 else { throw invalid("an unsigned integer was expected") }
        return value
    }

    /// The body of a link, once its tag 42 head is read: `0x00 ‖ binary CID`.
    public mutating func linkBody() throws(DagCBORError) -> CID {
        let body = try byteString()
        guard body.first == 0, let cid = try? CID(bytes: body.dropFirst()) else { throw invalid("a malformed link") }
        return cid
    }

    /// Skips one whole item (iteratively: `pending` counts the items still to skip). Every item
    /// takes at least a byte, so counts beyond the bytes left are truncated input (never
    /// arithmetic on a count of 2^64 − 1 that a block may declare).
    public mutating func skip() throws(DagCBORError) {
        var pending: UInt64 = 1
        while pending > 0 {
            pending -= 1
            let (major, argument) = try head()
            let left = UInt64(bytes.count - position)
            switch major {
            case 2, 3: _ = try payload(argument)
            case 4, 5, 6:
                // The items that follow: an array's count, a map's pairs (two items each), a
                // tag's one item. Each takes at least a byte.
                let (more, overflow) = major == 6 ? (1, false) : major == 5 ? argument.multipliedReportingOverflow(by: 2) : (argument, false)
                guard !overflow, more <= left, pending <= left - more else { throw invalid("truncated") }
                pending += more
            default: break
            }
        }
    }
}
