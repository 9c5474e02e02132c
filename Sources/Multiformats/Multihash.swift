/// A multihash: a hash function code and a digest (github.com/multiformats/multihash).
/// Binary form: `varint(code) varint(digest length) digest`.
///
/// Digests of up to `inlineCapacity` (64) bytes — every cryptographic hash we use — are stored
/// inline, so creating, copying, comparing and hashing a `Multihash` allocates nothing. Longer
/// digests (identity multihashes, long blake3 outputs) go to a heap array; no digest may exceed
/// `maxDigestLength` bytes.
public struct Multihash: Hashable, Sendable, CustomStringConvertible {
    /// The hash function.
    public let code: Multicodec
    @usableFromInline let count: UInt32
    /// The digest when it fits inline, zero-filled after `count`; all zero otherwise.
    @usableFromInline let inline: InlineDigest
    /// The digest when it is longer than `inlineCapacity`, nil otherwise.
    @usableFromInline let heap: [UInt8]?

    /// Digests up to this many bytes are stored without allocation.
    public static let inlineCapacity = 64
    /// The longest digest accepted (identity digests and variable-length functions).
    public static let maxDigestLength = 4096

    /// The full digest length of a fixed-length hash function we know, nil for identity,
    /// variable-length functions (blake3) and unknown codes.
    public static func fullDigestLength(of code: Multicodec) -> Int? {
        switch code.rawValue {
        case 0x11: return 20                                  // sha1
        case 0x12, 0x16, 0x1015, 0xb220, 0xb260: return 32    // sha2-256, sha3-256, sha2-512-256, blake2b-256, blake2s-256
        case 0x13, 0x14, 0xb240: return 64                    // sha2-512, sha3-512, blake2b-512
        case 0x15, 0x20: return 48                            // sha3-384, sha2-384
        case 0x17, 0x1013, 0x1014: return 28                  // sha3-224, sha2-224, sha2-512-224
        case 0x22: return 8                                   // murmur3-x64-64
        default: return nil
        }
    }

    /// Checks a digest length for `code`: identity and unknown/variable codes accept
    /// 0 ... `maxDigestLength` bytes (1 ... for blake3); fixed-length functions accept their full
    /// length or a truncation of it (1 ... full), never more.
    @usableFromInline
    static func check(code: Multicodec, length: Int, offset: Int?) throws(MultiformatsError) {
        if let full = fullDigestLength(of: code) {
            guard length >= 1 && length <= full else {
                throw MultiformatsError(.digestLength,
                    "\(code) digest of \(length) bytes (must be 1...\(full))", offset: offset)
            }
        } else {
            let minimum = code == .blake3 ? 1 : 0
            guard length >= minimum && length <= maxDigestLength else {
                throw MultiformatsError(.digestLength,
                    "\(code) digest of \(length) bytes (must be \(minimum)...\(maxDigestLength))", offset: offset)
            }
        }
    }

    /// A multihash from a code and a digest (checked as `fullDigestLength(of:)` describes).
    public init(code: Multicodec, digest: UnsafeRawBufferPointer) throws(MultiformatsError) {
        try Multihash.check(code: code, length: digest.count, offset: nil)
        self.init(unchecked: code, digest: digest)
    }

    /// A multihash from a code and a digest (checked as `fullDigestLength(of:)` describes).
    public init(code: Multicodec, digest: some Collection<UInt8>) throws(MultiformatsError) {
        if let made = digest.withContiguousStorageIfAvailable({ buffer in
            Result { () throws(MultiformatsError) in try Multihash(code: code, digest: UnsafeRawBufferPointer(buffer)) }
        }) {
            self = try made.get()
            return
        }
        let copy = Array(digest)
        let made = copy.withUnsafeBytes { buffer in
            Result { () throws(MultiformatsError) in try Multihash(code: code, digest: buffer) }
        }
        self = try made.get()
    }

    @usableFromInline
    init(unchecked code: Multicodec, digest: UnsafeRawBufferPointer) {
        self.code = code
        self.count = UInt32(digest.count)
        var inline = InlineDigest()
        if digest.count <= Multihash.inlineCapacity {
            withUnsafeMutableBytes(of: &inline) { $0.copyMemory(from: digest) }
            self.heap = nil
        } else {
            self.heap = Array(digest.bindMemory(to: UInt8.self))
        }
        self.inline = inline
    }

    // MARK: Binary form

    /// Decodes the multihash at the start of `buffer`; bytes after it are left alone (as inside
    /// a CID or a CAR section). Returns the multihash and the number of bytes it occupied.
    public static func decode(
        prefixOf buffer: UnsafeRawBufferPointer
    ) throws(MultiformatsError) -> (multihash: Multihash, length: Int) {
        let (rawCode, codeLength) = try Varint.decode(buffer)
        let afterCode = UnsafeRawBufferPointer(rebasing: buffer[codeLength...])
        let (rawLength, lengthLength): (UInt64, Int)
        do {
            (rawLength, lengthLength) = try Varint.decode(afterCode)
        } catch {
            throw error.shifted(by: codeLength)
        }
        let code = Multicodec(unchecked: rawCode)
        let start = codeLength + lengthLength
        let length = rawLength > UInt64(maxDigestLength) ? maxDigestLength + 1 : Int(rawLength)
        try check(code: code, length: length, offset: codeLength)
        guard buffer.count - start >= length else {
            throw MultiformatsError(.invalidLength,
                "multihash digest truncated: \(buffer.count - start) of \(length) bytes present", offset: buffer.count)
        }
        let digest = UnsafeRawBufferPointer(rebasing: buffer[start..<(start + length)])
        return (Multihash(unchecked: code, digest: digest), start + length)
    }

    /// Decodes a multihash that fills all of `bytes`.
    public init(bytes: some Collection<UInt8>) throws(MultiformatsError) {
        self = try withContiguousBytes(bytes) { (buffer) throws(MultiformatsError) in
            let (multihash, length) = try Multihash.decode(prefixOf: buffer)
            guard length == buffer.count else {
                throw MultiformatsError(.trailingBytes,
                    "\(buffer.count - length) bytes after the multihash", offset: length)
            }
            return multihash
        }
    }

    /// The number of bytes of the binary form.
    @inlinable
    public var encodedLength: Int {
        Varint.encodedLength(code.rawValue) + Varint.encodedLength(UInt64(count)) + Int(count)
    }

    /// Writes the binary form to the start of `buffer` (at least `encodedLength` bytes); returns
    /// the number of bytes written.
    @inlinable
    public func encode(to buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= encodedLength, "multihash buffer too small")
        var o = Varint.encode(code.rawValue, to: buffer)
        o += Varint.encode(UInt64(count), to: UnsafeMutableRawBufferPointer(rebasing: buffer[o...]))
        withUnsafeDigest { digest in
            UnsafeMutableRawBufferPointer(rebasing: buffer[o..<(o + digest.count)]).copyMemory(from: digest)
        }
        return o + Int(count)
    }

    /// Appends the binary form to `output`.
    @inlinable
    public func encode(into output: inout [UInt8]) {
        let start = output.count
        let length = encodedLength
        output.append(contentsOf: repeatElement(0, count: length))
        output.withUnsafeMutableBytes { raw in
            _ = encode(to: UnsafeMutableRawBufferPointer(rebasing: raw[start...]))
        }
    }

    /// The binary form.
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: encodedLength) { buffer, n in
            n = encode(to: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    // MARK: Digest

    /// The digest length in bytes.
    @inlinable public var length: Int { Int(count) }

    /// Calls `body` with the digest bytes (valid only inside `body`).
    @inlinable
    public func withUnsafeDigest<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        if let heap {
            let result: Result<R, E> = heap.withUnsafeBytes { bytes in Result { () throws(E) in try body(bytes) } }
            return try result.get()
        }
        var copy = inline
        let count = Int(self.count)
        let result: Result<R, E> = withUnsafeBytes(of: &copy) { raw in
            Result { () throws(E) in try body(UnsafeRawBufferPointer(rebasing: raw[0..<count])) }
        }
        return try result.get()
    }

    /// The digest bytes.
    public var digest: [UInt8] { withUnsafeDigest { Array($0) } }

    /// `<hash function>:<hex digest>`, e.g. `sha2-256:e3b0c442…`.
    public var description: String {
        withUnsafeDigest { digest in "\(code):" + hexString(digest) }
    }
}

/// 64 bytes of inline digest storage (eight words, so equality and hashing are synthesized).
@usableFromInline
struct InlineDigest: Hashable, Sendable {
    @usableFromInline var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0
    @usableFromInline var w4: UInt64 = 0, w5: UInt64 = 0, w6: UInt64 = 0, w7: UInt64 = 0
    @inlinable init() {}
}

/// Lower-case hex of some bytes (for descriptions and messages).
func hexString(_ bytes: UnsafeRawBufferPointer) -> String {
    let digits: StaticString = "0123456789abcdef"
    return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
        let d = digits.utf8Start
        for (i, byte) in bytes.enumerated() {
            out[2 * i] = d[Int(byte >> 4)]
            out[2 * i + 1] = d[Int(byte & 0x0F)]
        }
        return bytes.count * 2
    }
}

/// Runs `body` on the bytes of `bytes`, copying only when the collection is not contiguous.
@inlinable
func withContiguousBytes<R>(
    _ bytes: some Collection<UInt8>, _ body: (UnsafeRawBufferPointer) throws(MultiformatsError) -> R
) throws(MultiformatsError) -> R {
    if let fast = bytes.withContiguousStorageIfAvailable({ buffer in
        Result { () throws(MultiformatsError) in try body(UnsafeRawBufferPointer(buffer)) }
    }) {
        return try fast.get()
    }
    let copy = Array(bytes)
    let result: Result<R, MultiformatsError> = copy.withUnsafeBytes { buffer in
        Result { () throws(MultiformatsError) in try body(buffer) }
    }
    return try result.get()
}
