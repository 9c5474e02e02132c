internal import CSodium

/// The libsodium side: BLAKE2b through `crypto_generichash` (unkeyed, output 32 or 64 bytes).
enum Sodium {
    /// `sodium_init()` runs exactly once, before the first libsodium call: it picks the fastest
    /// BLAKE2b compression function for this CPU (AVX2 here), so it must precede any hashing.
    static let ready: Bool = {
        let status = sodium_init()
        precondition(status >= 0, "sodium_init failed")
        return true
    }()

    /// Bytes and alignment of `crypto_generichash_state` (libsodium declares it 64-aligned).
    static let stateSize: Int = crypto_generichash_statebytes()
    static let stateAlignment = 64

    @inline(__always)
    static func state(_ raw: UnsafeMutableRawPointer) -> OpaquePointer {
        // `crypto_generichash_state` is declared 64-byte aligned, which Swift does not import,
        // so the functions take an opaque pointer; our allocations honour the alignment.
        OpaquePointer(raw)
    }

    static func initialize(_ raw: UnsafeMutableRawPointer, digestCount: Int) {
        precondition(crypto_generichash_init(state(raw), nil, 0, digestCount) == 0, "crypto_generichash_init failed")
    }

    @inline(__always)
    static func update(_ raw: UnsafeMutableRawPointer, _ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        _ = crypto_generichash_update(
            state(raw), base.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
    }

    static func final(_ raw: UnsafeMutableRawPointer, digestCount: Int) -> Digest {
        Digest(unsafeUninitializedCount: digestCount) { out in
            _ = crypto_generichash_final(
                state(raw), out.baseAddress!.assumingMemoryBound(to: UInt8.self), digestCount)
        }
    }

    /// One-shot: libsodium keeps the state on its own stack.
    static func hash(_ bytes: UnsafeRawBufferPointer, digestCount: Int) -> Digest {
        _ = ready
        return Digest(unsafeUninitializedCount: digestCount) { out in
            _ = crypto_generichash(
                out.baseAddress!.assumingMemoryBound(to: UInt8.self), digestCount,
                bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count),
                nil, 0)
        }
    }

    /// Runs `body` with a 64-byte aligned, uninitialized state on the stack. (A temporary
    /// allocation with alignment 64 would be moved to the heap, so over-allocate and align.)
    @inline(__always)
    static func withAlignedScratchState<R>(_ body: (UnsafeMutableRawPointer) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: stateSize + stateAlignment, alignment: 16) { raw in
            let address = UInt(bitPattern: raw.baseAddress!)
            let aligned = (address + UInt(stateAlignment - 1)) & ~UInt(stateAlignment - 1)
            return body(UnsafeMutableRawPointer(bitPattern: aligned)!)
        }
    }

    /// Segmented one-shot with a state on this thread's stack (no heap allocation).
    static func hash(_ input: HashInput, digestCount: Int) -> Digest {
        _ = ready
        if input.prefix.isEmpty && input.suffix.isEmpty {
            return hash(input.body, digestCount: digestCount)
        }
        return withAlignedScratchState { pointer in
            initialize(pointer, digestCount: digestCount)
            update(pointer, input.prefix)
            update(pointer, input.body)
            update(pointer, input.suffix)
            return final(pointer, digestCount: digestCount)
        }
    }
}

/// An owned, 64-byte aligned `crypto_generichash_state` (copy-on-write storage).
final class SodiumStateBox: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer

    init(digestCount: Int) {
        _ = Sodium.ready
        raw = UnsafeMutableRawPointer.allocate(byteCount: Sodium.stateSize, alignment: Sodium.stateAlignment)
        Sodium.initialize(raw, digestCount: digestCount)
    }

    init(copying other: SodiumStateBox) {
        raw = UnsafeMutableRawPointer.allocate(byteCount: Sodium.stateSize, alignment: Sodium.stateAlignment)
        raw.copyMemory(from: other.raw, byteCount: Sodium.stateSize)
    }

    deinit { raw.deallocate() }
}

/// Streaming BLAKE2b state shared by the two libsodium-backed hashers.
struct SodiumHashState: @unchecked Sendable {
    private var box: SodiumStateBox
    private let digestCount: Int

    init(digestCount: Int) {
        box = SodiumStateBox(digestCount: digestCount)
        self.digestCount = digestCount
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        if !isKnownUniquelyReferenced(&box) { box = SodiumStateBox(copying: box) }
        Sodium.update(box.raw, bytes)
    }

    /// Finalizes a stack copy of the state, leaving this one untouched.
    func finalize() -> Digest {
        Sodium.withAlignedScratchState { scratch in
            scratch.copyMemory(from: box.raw, byteCount: Sodium.stateSize)
            return Sodium.final(scratch, digestCount: digestCount)
        }
    }
}

/// BLAKE2b-256 (RFC 7693, unkeyed, 32-byte output) through libsodium.
public struct BLAKE2b256: HashFunction {
    public static var algorithm: HashAlgorithm { .blake2b_256 }
    var state: SodiumHashState
    public init() { state = SodiumHashState(digestCount: 32) }
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { state.update(bytes) }
    public func finalize() -> Digest { state.finalize() }
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Digest { Sodium.hash(bytes, digestCount: 32) }
    public static func hash(_ input: HashInput) -> Digest { Sodium.hash(input, digestCount: 32) }
}

/// BLAKE2b-512 (RFC 7693, unkeyed, 64-byte output) through libsodium.
public struct BLAKE2b512: HashFunction {
    public static var algorithm: HashAlgorithm { .blake2b_512 }
    var state: SodiumHashState
    public init() { state = SodiumHashState(digestCount: 64) }
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { state.update(bytes) }
    public func finalize() -> Digest { state.finalize() }
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Digest { Sodium.hash(bytes, digestCount: 64) }
    public static func hash(_ input: HashInput) -> Digest { Sodium.hash(input, digestCount: 64) }
}
