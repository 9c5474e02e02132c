import Multiformats

/// Protocol Buffers wire-format primitives shared by the dag-pb and UnixFS codecs.
///
/// Only what the two schemas need: unsigned LEB128 varints (up to 64 bits, 10 bytes), the
/// length-delimited and fixed32 wire types, and keys. Writers work on raw pointers into a buffer
/// whose size was computed beforehand; the reader is a bounds-checked cursor that never traps.
@usableFromInline
package enum Wire {
    /// Wire type numbers (protobuf encoding spec).
    @usableFromInline static let varint: UInt8 = 0
    @usableFromInline static let lengthDelimited: UInt8 = 2
    @usableFromInline static let fixed32: UInt8 = 5

    /// Appends `length` bytes to `output`, written in place by `encode` (an encoder whose size
    /// was computed beforehand).
    package static func append(_ length: Int, to output: inout [UInt8], _ encode: (UnsafeMutableRawBufferPointer) -> Void) {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: length))
        output.withUnsafeMutableBytes { raw in
            encode(UnsafeMutableRawBufferPointer(rebasing: raw[start..<(start + length)]))
        }
    }

    /// The number of bytes of the varint encoding of `value` (1 … 10).
    @inlinable @inline(__always)
    package static func varintSize(_ value: UInt64) -> Int {
        Varint.encodedLength(value)
    }

    /// Size of a length-delimited field (key byte, length varint, payload).
    @inlinable @inline(__always)
    package static func bytesFieldSize(_ length: Int) -> Int {
        1 + varintSize(UInt64(length)) + length
    }

    /// Size of a varint field with a one-byte key.
    @inlinable @inline(__always)
    package static func varintFieldSize(_ value: UInt64) -> Int {
        1 + varintSize(value)
    }

    /// Writes `value` as a varint at `pointer`; returns the bytes written.
    @inlinable @inline(__always)
    package static func writeVarint(_ value: UInt64, to pointer: UnsafeMutablePointer<UInt8>) -> Int {
        var v = value
        var i = 0
        while v >= 0x80 {
            pointer[i] = UInt8(truncatingIfNeeded: v) | 0x80
            v >>= 7
            i += 1
        }
        pointer[i] = UInt8(truncatingIfNeeded: v)
        return i + 1
    }
}

/// A failure inside `WireReader`: where it happened (absolute offset in the outermost block) and why.
@usableFromInline
package struct WireError: Error {
    @usableFromInline package var offset: Int
    @usableFromInline package var reason: String

    @usableFromInline
    package init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }
}

/// A bounds-checked cursor over protobuf bytes. Offsets it reports are relative to `origin`,
/// the position of its first byte inside the outermost block, so nested messages report
/// absolute offsets.
@usableFromInline
package struct WireReader {
    @usableFromInline package let bytes: UnsafeRawBufferPointer
    @usableFromInline package let origin: Int
    @usableFromInline package var position = 0

    @usableFromInline
    package init(_ bytes: UnsafeRawBufferPointer, origin: Int = 0) {
        self.bytes = bytes
        self.origin = origin
    }

    @usableFromInline package var isAtEnd: Bool { position >= bytes.count }

    @usableFromInline
    package func fail(_ reason: String, at relative: Int? = nil) -> WireError {
        WireError(offset: origin + (relative ?? position), reason: reason)
    }

    /// Reads a minimal varint of at most 64 bits.
    @usableFromInline
    package mutating func readVarint(_ what: @autoclosure () -> String) throws(WireError) -> UInt64 {
        let start = position
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count else {
                throw fail("\(what()) is truncated (varint runs past the end)", at: start)
            }
            let byte = bytes[position]
            position += 1
            if shift == 63 && byte > 1 {
                throw fail("\(what()) is a varint longer than 64 bits", at: start)
            }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                if byte == 0 && position - start > 1 {
                    throw fail("\(what()) is a non-minimal varint (trailing zero byte)", at: start)
                }
                return value
            }
            shift += 7
        }
    }

    /// Reads a field key; returns (field number, wire type).
    @usableFromInline
    package mutating func readKey() throws(WireError) -> (field: UInt64, wireType: UInt8) {
        let key = try readVarint("field key")
        return (key >> 3, UInt8(truncatingIfNeeded: key & 7))
    }

    /// Reads a length prefix and returns the payload's range (relative), checking it fits.
    @usableFromInline
    package mutating func readLengthDelimited(_ what: @autoclosure () -> String) throws(WireError) -> Range<Int> {
        let start = position
        let length = try readVarint("length of \(what())")
        let remaining = bytes.count - position
        guard length <= UInt64(remaining) else {
            throw fail("\(what()) claims \(length) bytes but only \(remaining) remain", at: start)
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    /// Reads 4 little-endian bytes.
    @usableFromInline
    package mutating func readFixed32(_ what: @autoclosure () -> String) throws(WireError) -> UInt32 {
        guard bytes.count - position >= 4 else {
            throw fail("\(what()) is truncated (fixed32 needs 4 bytes)")
        }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return value
    }

    @usableFromInline
    package func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[range])
    }
}

/// Human-readable wire type name for error messages.
@usableFromInline
func wireTypeName(_ type: UInt8) -> String {
    switch type {
    case 0: return "varint (0)"
    case 1: return "fixed64 (1)"
    case 2: return "length-delimited (2)"
    case 3: return "start-group (3)"
    case 4: return "end-group (4)"
    case 5: return "fixed32 (5)"
    default: return "invalid wire type \(type)"
    }
}

/// A value with one canonical encoding written in place (`encode(to:)` into exactly
/// `encodedLength` bytes): dag-pb nodes and UnixFS `Data` messages. Appending to a reusable
/// buffer and the encoded bytes come with it.
public protocol WireEncodable {
    /// The length of the encoding in bytes.
    var encodedLength: Int { get }
    /// Writes the encoding at the start of `buffer` (at least `encodedLength` bytes); returns
    /// the number of bytes written.
    func encode(to buffer: UnsafeMutableRawBufferPointer) -> Int
}

extension WireEncodable {
    /// Appends the encoding to `output` (a reusable buffer: keep its capacity around).
    public func encode(into output: inout [UInt8]) {
        Wire.append(encodedLength, to: &output) { _ = encode(to: $0) }
    }

    /// The encoded bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }
}
