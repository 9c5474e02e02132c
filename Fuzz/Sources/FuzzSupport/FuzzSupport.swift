/// Helpers shared by the fuzz targets.

/// Stops the run (libFuzzer reports a crash and saves the input) when an invariant fails.
public func require(_ condition: Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fatalError("invariant failed: " + message(), file: file, line: line) }
}

/// The fuzzer's input as a byte array (nil pointer = empty input).
public func inputBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// The input read as UTF-8 text, invalid sequences repaired (as Swift does for any string
/// that reaches the CLI's argument parser).
public func inputText(_ data: UnsafePointer<UInt8>?, _ size: Int) -> String {
    String(decoding: inputBytes(data, size), as: UTF8.self)
}

/// Reads little fields off the front of an input (used to split one input into parameters).
public struct InputReader {
    public var bytes: [UInt8]
    public var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var remaining: [UInt8] { Array(bytes[min(position, bytes.count)...]) }

    /// One byte, 0 past the end.
    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// A signed value in zigzag LEB128 (at most 10 bytes): short inputs give small numbers,
    /// and every Int64 is reachable, negative ones included.
    public mutating func signed() -> Int64 {
        var raw: UInt64 = 0
        var shift: UInt64 = 0
        while shift < 64 {
            let b = byte()
            raw |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    /// `count` bytes (fewer past the end).
    public mutating func take(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, position + max(0, count))
        defer { position = max(position, end) }
        return position < end ? Array(bytes[position..<end]) : []
    }
}
