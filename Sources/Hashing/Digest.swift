import CairnSystem

/// A hash output: a value type that holds up to 64 bytes inline, without allocating.
///
/// Every cryptographic algorithm of `HashAlgorithm` fits inline (at most 64 bytes). Only an
/// `identity` digest of an input longer than 64 bytes is kept in a heap array; which storage is
/// used is decided by the length alone, so two equal byte strings always compare equal and hash
/// alike.
public struct Digest: Sendable {
    /// The most bytes held without allocating.
    public static let inlineCapacity = 64

    @usableFromInline
    typealias InlineWords = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    @usableFromInline
    enum Storage: Sendable {
        case inline(InlineWords, count: UInt8)
        case heap([UInt8])
    }

    @usableFromInline
    var storage: Storage

    /// The empty digest (zero bytes); a placeholder for buffers that will be overwritten.
    public init() {
        storage = .inline((0, 0, 0, 0, 0, 0, 0, 0), count: 0)
    }

    /// Builds a digest of `count` bytes, letting `body` write them. `body` must write all of them.
    @inlinable
    public init(
        unsafeUninitializedCount count: Int,
        initializingWith body: (UnsafeMutableRawBufferPointer) throws -> Void
    ) rethrows {
        precondition(count >= 0, "negative digest length")
        if count <= Digest.inlineCapacity {
            var words: InlineWords = (0, 0, 0, 0, 0, 0, 0, 0)
            try Swift.withUnsafeMutableBytes(of: &words) { raw in
                try body(UnsafeMutableRawBufferPointer(rebasing: raw[0..<count]))
            }
            storage = .inline(words, count: UInt8(truncatingIfNeeded: count))
        } else {
            let bytes = try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                try body(UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            }
            storage = .heap(bytes)
        }
    }

    /// Copies `bytes` into a digest.
    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.init(unsafeUninitializedCount: bytes.count) { out in
            if let base = bytes.baseAddress, !bytes.isEmpty {
                out.baseAddress!.copyMemory(from: base, byteCount: bytes.count)
            }
        }
    }

    /// Copies `bytes` into a digest.
    @inlinable
    public init(bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        self = array.withUnsafeBytes { Digest($0) }
    }

    /// The number of bytes.
    @inlinable
    public var count: Int {
        switch storage {
        case .inline(_, let count): return Int(count)
        case .heap(let bytes): return bytes.count
        }
    }

    /// Whether this digest begins with `expected` (a multihash may carry a truncated digest:
    /// the check every verifier of a block against its CID makes).
    public func starts(with expected: UnsafeRawBufferPointer) -> Bool {
        withUnsafeBytes { computed in
            expected.count <= computed.count
                && (expected.isEmpty || memcmp(computed.baseAddress!, expected.baseAddress!, expected.count) == 0)
        }
    }

    /// Calls `body` with the digest bytes. The pointer is valid only inside `body`.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .inline(var words, let count):
            return try Swift.withUnsafeBytes(of: &words) { raw in
                try body(UnsafeRawBufferPointer(rebasing: raw[0..<Int(count)]))
            }
        case .heap(let bytes):
            return try bytes.withUnsafeBytes { raw in try body(raw) }
        }
    }

    /// The digest bytes as an array.
    @inlinable
    public var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    /// Lower-case hexadecimal text of the bytes.
    public var hex: String {
        withUnsafeBytes { raw in
            let digits: StaticString = "0123456789abcdef"
            return String(unsafeUninitializedCapacity: raw.count * 2) { out in
                digits.withUTF8Buffer { table in
                    for (index, byte) in raw.enumerated() {
                        out[2 * index] = table[Int(byte >> 4)]
                        out[2 * index + 1] = table[Int(byte & 0x0F)]
                    }
                }
                return raw.count * 2
            }
        }
    }
}

extension Digest: Hashable {
    @inlinable
    public static func == (lhs: Digest, rhs: Digest) -> Bool {
        lhs.withUnsafeBytes { left in
            rhs.withUnsafeBytes { right in
                left.count == right.count && left.elementsEqual(right)
            }
        }
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

extension Digest: CustomStringConvertible, CustomDebugStringConvertible {
    /// The lower-case hex of the bytes.
    public var description: String { hex }
    public var debugDescription: String { "Digest(\(hex))" }
}
