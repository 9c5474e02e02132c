/// Unsigned varints as the multiformats unsigned-varint spec defines them: little-endian groups
/// of 7 bits, the high bit of each byte set when another byte follows, at most 9 bytes (so at
/// most 63 bits, values `0 ... 2^63-1`), and only the shortest encoding of each value.
public enum Varint {
    /// The longest valid encoding, in bytes.
    public static let maxLength = 9
    /// The largest value a varint may hold: 2^63 - 1.
    public static let maxValue: UInt64 = (1 << 63) - 1

    /// The number of bytes `value` encodes to (1 ... 9; 10 for values above `maxValue`,
    /// which `encode` refuses).
    @inlinable
    public static func encodedLength(_ value: UInt64) -> Int {
        // bits needed (at least 1), in groups of 7.
        let bits = 64 - (value | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }

    /// Appends the encoding of `value` to `output`.
    /// - Precondition: `value <= Varint.maxValue`.
    @inlinable
    public static func encode(_ value: UInt64, into output: inout [UInt8]) {
        precondition(value <= maxValue, "varint value \(value) is above 2^63-1")
        var v = value
        while v >= 0x80 {
            output.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        output.append(UInt8(truncatingIfNeeded: v))
    }

    /// The encoding of `value`.
    /// - Precondition: `value <= Varint.maxValue`.
    @inlinable
    public static func encode(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(encodedLength(value))
        encode(value, into: &out)
        return out
    }

    /// Writes the encoding of `value` at the start of `buffer`, which must hold at least
    /// `encodedLength(value)` bytes, and returns the number of bytes written.
    /// - Precondition: `value <= Varint.maxValue` and the buffer is large enough.
    @inlinable
    public static func encode(_ value: UInt64, to buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(value <= maxValue, "varint value \(value) is above 2^63-1")
        precondition(buffer.count >= encodedLength(value), "varint buffer too small")
        var v = value
        var i = 0
        while v >= 0x80 {
            buffer[i] = UInt8(truncatingIfNeeded: v) | 0x80
            v >>= 7
            i += 1
        }
        buffer[i] = UInt8(truncatingIfNeeded: v)
        return i + 1
    }

    /// Decodes the varint at the start of `buffer` (bytes after it are ignored).
    /// - Returns: the value and the number of bytes it occupied.
    /// - Throws: `.varintTruncated` (offset = where the next byte was expected),
    ///   `.varintNotMinimal` / `.varintOverflow` (offset = the offending byte).
    @inlinable
    public static func decode(
        _ buffer: UnsafeRawBufferPointer
    ) throws(MultiformatsError) -> (value: UInt64, length: Int) {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var i = 0
        let count = buffer.count
        while true {
            guard i < count else {
                throw MultiformatsError(.varintTruncated, "varint truncated", offset: i)
            }
            let byte = buffer[i]
            if i == maxLength - 1 && byte & 0x80 != 0 {
                throw MultiformatsError(.varintOverflow, "varint longer than 9 bytes (value 2^63 or more)", offset: i)
            }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                if byte == 0 && i > 0 {
                    throw MultiformatsError(.varintNotMinimal, "varint not minimally encoded", offset: i)
                }
                return (value, i + 1)
            }
            shift += 7
            i += 1
        }
    }

    /// Decodes the varint at the start of `bytes` (bytes after it are ignored); offsets in
    /// errors count from `bytes.startIndex`.
    @inlinable
    public static func decode<Bytes: Collection>(
        _ bytes: Bytes
    ) throws(MultiformatsError) -> (value: UInt64, length: Int) where Bytes.Element == UInt8 {
        let fast: Result<(value: UInt64, length: Int), MultiformatsError>? =
            bytes.withContiguousStorageIfAvailable { buffer in
                Result { () throws(MultiformatsError) in try decode(UnsafeRawBufferPointer(buffer)) }
            }
        if let fast { return try fast.get() }
        // Non-contiguous collection: copy at most 9 bytes to the stack.
        var scratch: (UInt64, UInt64) = (0, 0)
        return try withUnsafeMutableBytes(of: &scratch) { raw throws(MultiformatsError) in
            var n = 0
            for byte in bytes.prefix(maxLength) {
                raw[n] = byte
                n += 1
            }
            return try decode(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
        }
    }
}
