#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A streaming hash function: a value type, created empty, fed with `update`, read with
/// `finalize`.
///
/// Value semantics: copying a hasher forks the running computation (the copy and the original
/// go on independently). `finalize()` does not consume or reset the hasher, so a prefix digest
/// can be taken and updating continued.
public protocol HashFunction: Sendable {
    /// The algorithm this type computes.
    static var algorithm: HashAlgorithm { get }

    /// Creates a hasher with no input.
    init()

    /// Appends bytes. The bytes are only read during the call.
    mutating func update(_ bytes: UnsafeRawBufferPointer)

    /// The digest of everything passed to `update` so far.
    func finalize() -> Digest

    /// One-shot digest of borrowed bytes; no copy of the input is made.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> Digest

    /// One-shot digest of the concatenation of the segments of `input`; no copy is made.
    static func hash(_ input: HashInput) -> Digest
}

extension HashFunction {
    /// Default one-shot: streaming through a fresh hasher.
    @inlinable
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Digest {
        var hasher = Self()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Default segmented one-shot: streaming through a fresh hasher.
    @inlinable
    public static func hash(_ input: HashInput) -> Digest {
        var hasher = Self()
        hasher.update(input.prefix)
        hasher.update(input.body)
        hasher.update(input.suffix)
        return hasher.finalize()
    }

    /// Appends the bytes of an array.
    @inlinable
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Appends the bytes of any contiguous storage (`Data`, `ArraySlice<UInt8>`, …).
    @inlinable
    public mutating func update(_ bytes: some ContiguousBytes) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// One-shot digest of an array's bytes.
    @inlinable
    public static func hash(_ bytes: [UInt8]) -> Digest {
        bytes.withUnsafeBytes { hash($0) }
    }
}

/// The bytes of one message given as up to three borrowed segments, hashed as their
/// concatenation `prefix + body + suffix` without copying.
///
/// Made for the DAG builder, which hashes a protobuf header, a chunk and a trailer as one block.
/// The pointers are borrowed: they must stay valid and unchanged until the call that receives
/// the `HashInput` returns. That is also why this type is `@unchecked Sendable`: the batch
/// hasher reads the segments from worker threads while the caller waits.
public struct HashInput: @unchecked Sendable {
    public var prefix: UnsafeRawBufferPointer
    public var body: UnsafeRawBufferPointer
    public var suffix: UnsafeRawBufferPointer

    /// A message of one segment.
    @inlinable
    public init(_ body: UnsafeRawBufferPointer) {
        self.prefix = UnsafeRawBufferPointer(start: nil, count: 0)
        self.body = body
        self.suffix = UnsafeRawBufferPointer(start: nil, count: 0)
    }

    /// A message of up to three segments (any may be empty).
    @inlinable
    public init(
        prefix: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        body: UnsafeRawBufferPointer,
        suffix: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) {
        self.prefix = prefix
        self.body = body
        self.suffix = suffix
    }

    /// The message length: the sum of the segment lengths.
    @inlinable
    public var count: Int { prefix.count + body.count + suffix.count }
}

extension HashAlgorithm {
    /// A streaming hasher for this algorithm.
    public func makeHasher() -> StreamingHasher {
        StreamingHasher(algorithm: self)
    }

    /// One-shot digest of borrowed bytes (no copy). For `identity` the digest is the input
    /// itself, held inline up to 64 bytes and in a heap array beyond.
    public func hash(_ bytes: UnsafeRawBufferPointer) -> Digest {
        switch self {
        case .identity: return IdentityHash.hash(bytes)
        case .sha2_256: return SHA256.hash(bytes)
        case .sha2_512: return SHA512.hash(bytes)
        case .sha3_256: return SHA3_256.hash(bytes)
        case .sha3_512: return SHA3_512.hash(bytes)
        case .blake2b_256: return BLAKE2b256.hash(bytes)
        case .blake2b_512: return BLAKE2b512.hash(bytes)
        case .blake3: return BLAKE3SIMD.hash(bytes)
        }
    }

    /// One-shot digest of the concatenated segments of `input` (no copy).
    public func hash(_ input: HashInput) -> Digest {
        switch self {
        case .identity: return IdentityHash.hash(input)
        case .sha2_256: return SHA256.hash(input)
        case .sha2_512: return SHA512.hash(input)
        case .sha3_256: return SHA3_256.hash(input)
        case .sha3_512: return SHA3_512.hash(input)
        case .blake2b_256: return BLAKE2b256.hash(input)
        case .blake2b_512: return BLAKE2b512.hash(input)
        case .blake3: return BLAKE3SIMD.hash(input)
        }
    }

    /// One-shot digest of an array's bytes.
    public func hash(_ bytes: [UInt8]) -> Digest {
        bytes.withUnsafeBytes { hash($0) }
    }
}

/// A streaming hasher whose algorithm is chosen at run time (`HashAlgorithm.makeHasher()`).
///
/// An enum over the concrete hashers, not an existential: each call is one switch. For hot
/// loops over a fixed algorithm prefer the concrete types (`SHA256`, `BLAKE3`, …).
public struct StreamingHasher: Sendable {
    @usableFromInline
    enum State: Sendable {
        case identity(IdentityHash)
        case sha2_256(SHA256)
        case sha2_512(SHA512)
        case sha3_256(SHA3_256)
        case sha3_512(SHA3_512)
        case blake2b_256(BLAKE2b256)
        case blake2b_512(BLAKE2b512)
        case blake3(BLAKE3SIMD)
        case moving  // transient: while a payload is being mutated out of place
    }

    @usableFromInline
    var state: State

    /// The algorithm being computed.
    public let algorithm: HashAlgorithm

    public init(algorithm: HashAlgorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .identity: state = .identity(IdentityHash())
        case .sha2_256: state = .sha2_256(SHA256())
        case .sha2_512: state = .sha2_512(SHA512())
        case .sha3_256: state = .sha3_256(SHA3_256())
        case .sha3_512: state = .sha3_512(SHA3_512())
        case .blake2b_256: state = .blake2b_256(BLAKE2b256())
        case .blake2b_512: state = .blake2b_512(BLAKE2b512())
        case .blake3: state = .blake3(BLAKE3SIMD())
        }
    }

    /// Appends bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        // Each payload is moved out, updated and moved back so that copy-on-write boxes stay
        // uniquely referenced (no context copy per update).
        var current = State.moving
        swap(&current, &state)
        switch consume current {
        case .identity(var h): h.update(bytes); state = .identity(h)
        case .sha2_256(var h): h.update(bytes); state = .sha2_256(h)
        case .sha2_512(var h): h.update(bytes); state = .sha2_512(h)
        case .sha3_256(var h): h.update(bytes); state = .sha3_256(h)
        case .sha3_512(var h): h.update(bytes); state = .sha3_512(h)
        case .blake2b_256(var h): h.update(bytes); state = .blake2b_256(h)
        case .blake2b_512(var h): h.update(bytes); state = .blake2b_512(h)
        case .blake3(var h): h.update(bytes); state = .blake3(h)
        case .moving: preconditionFailure("StreamingHasher state lost")
        }
    }

    /// Appends the bytes of an array.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Appends the bytes of any contiguous storage.
    public mutating func update(_ bytes: some ContiguousBytes) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything appended so far (the hasher can keep going).
    public func finalize() -> Digest {
        switch state {
        case .identity(let h): return h.finalize()
        case .sha2_256(let h): return h.finalize()
        case .sha2_512(let h): return h.finalize()
        case .sha3_256(let h): return h.finalize()
        case .sha3_512(let h): return h.finalize()
        case .blake2b_256(let h): return h.finalize()
        case .blake2b_512(let h): return h.finalize()
        case .blake3(let h): return h.finalize()
        case .moving: preconditionFailure("StreamingHasher state lost")
        }
    }
}

/// The `identity` multihash function: the digest is the input.
public struct IdentityHash: HashFunction {
    public static var algorithm: HashAlgorithm { .identity }

    @usableFromInline
    var buffer: [UInt8] = []

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    public func finalize() -> Digest {
        buffer.withUnsafeBytes { Digest($0) }
    }

    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Digest {
        Digest(bytes)
    }

    public static func hash(_ input: HashInput) -> Digest {
        Digest(unsafeUninitializedCount: input.count) { out in
            var offset = 0
            func add(_ segment: UnsafeRawBufferPointer) {
                guard !segment.isEmpty else { return }
                (out.baseAddress! + offset).copyMemory(from: segment.baseAddress!, byteCount: segment.count)
                offset += segment.count
            }
            add(input.prefix)
            add(input.body)
            add(input.suffix)
        }
    }
}
