internal import CCrypto

import CairnSystem

/// The OpenSSL (libcrypto 3) side: one fetched `EVP_MD` per algorithm, kept for the life of
/// the process, and one reusable `EVP_MD_CTX` per thread for one-shot and batch hashing.
///
/// OpenSSL 3 resolves an algorithm name through its provider machinery on every implicit
/// fetch (`EVP_sha256()` + `EVP_DigestInit_ex`), which costs more than hashing a short
/// message; an explicitly fetched `EVP_MD` skips that.
enum OpenSSL {
    nonisolated(unsafe) static let sha2_256: OpaquePointer = fetch("SHA2-256")
    nonisolated(unsafe) static let sha2_512: OpaquePointer = fetch("SHA2-512")
    nonisolated(unsafe) static let sha3_256: OpaquePointer = fetch("SHA3-256")
    nonisolated(unsafe) static let sha3_512: OpaquePointer = fetch("SHA3-512")

    private static func fetch(_ name: String) -> OpaquePointer {
        guard let md = EVP_MD_fetch(nil, name, nil) else {
            fatalError("OpenSSL has no \(name) digest (EVP_MD_fetch failed)")
        }
        return md
    }

    /// The thread's cached context. The key's destructor frees it when the thread exits.
    private static let contextKey: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { pointer in
            if let pointer { EVP_MD_CTX_free(OpaquePointer(pointer)) }
        }
        precondition(status == 0, "pthread_key_create failed")
        return key
    }()

    /// This thread's reusable `EVP_MD_CTX`. Never hand it to another thread.
    static func threadContext() -> OpaquePointer {
        if let existing = pthread_getspecific(contextKey) {
            return OpaquePointer(existing)
        }
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed") }
        pthread_setspecific(contextKey, UnsafeRawPointer(context))
        return context
    }

    @inline(__always)
    static func check(_ status: Int32, _ what: StaticString) {
        if status != 1 { fatalError("OpenSSL \(what) failed") }
    }

    /// One-shot digest of up to three segments with the thread's context.
    static func hash(
        _ md: OpaquePointer, digestCount: Int,
        _ a: UnsafeRawBufferPointer,
        _ b: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        _ c: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) -> Digest {
        let context = threadContext()
        check(EVP_DigestInit_ex2(context, md, nil), "EVP_DigestInit_ex2")
        if !a.isEmpty { check(EVP_DigestUpdate(context, a.baseAddress, a.count), "EVP_DigestUpdate") }
        if !b.isEmpty { check(EVP_DigestUpdate(context, b.baseAddress, b.count), "EVP_DigestUpdate") }
        if !c.isEmpty { check(EVP_DigestUpdate(context, c.baseAddress, c.count), "EVP_DigestUpdate") }
        return Digest(unsafeUninitializedCount: digestCount) { out in
            var length: UInt32 = 0
            check(
                EVP_DigestFinal_ex(context, out.baseAddress!.assumingMemoryBound(to: UInt8.self), &length),
                "EVP_DigestFinal_ex")
            precondition(Int(length) == digestCount)
        }
    }
}

/// An owned `EVP_MD_CTX` behind a class so a hasher struct can copy it on write.
final class EVPContextBox: @unchecked Sendable {
    let context: OpaquePointer

    init(md: OpaquePointer) {
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed") }
        self.context = context
        OpenSSL.check(EVP_DigestInit_ex2(context, md, nil), "EVP_DigestInit_ex2")
    }

    init(copying other: EVPContextBox) {
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed") }
        self.context = context
        OpenSSL.check(EVP_MD_CTX_copy_ex(context, other.context), "EVP_MD_CTX_copy_ex")
    }

    deinit { EVP_MD_CTX_free(context) }
}

/// The streaming state shared by the four OpenSSL-backed hashers (copy-on-write).
struct EVPHashState: @unchecked Sendable {
    private var box: EVPContextBox
    private let digestCount: Int

    init(md: OpaquePointer, digestCount: Int) {
        box = EVPContextBox(md: md)
        self.digestCount = digestCount
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        if !isKnownUniquelyReferenced(&box) { box = EVPContextBox(copying: box) }
        OpenSSL.check(EVP_DigestUpdate(box.context, bytes.baseAddress, bytes.count), "EVP_DigestUpdate")
    }

    /// Finalizes a copy (in the thread's scratch context), leaving this state untouched.
    func finalize() -> Digest {
        let scratch = OpenSSL.threadContext()
        OpenSSL.check(EVP_MD_CTX_copy_ex(scratch, box.context), "EVP_MD_CTX_copy_ex")
        return Digest(unsafeUninitializedCount: digestCount) { out in
            var length: UInt32 = 0
            OpenSSL.check(
                EVP_DigestFinal_ex(scratch, out.baseAddress!.assumingMemoryBound(to: UInt8.self), &length),
                "EVP_DigestFinal_ex")
        }
    }
}

/// SHA-256 (FIPS 180-4) through OpenSSL.
public struct SHA256: HashFunction {
    public static var algorithm: HashAlgorithm { .sha2_256 }
    var state: EVPHashState
    public init() { state = EVPHashState(md: OpenSSL.sha2_256, digestCount: 32) }
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { state.update(bytes) }
    public func finalize() -> Digest { state.finalize() }
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Digest {
        OpenSSL.hash(OpenSSL.sha2_256, digestCount: 32, bytes)
    }
    public static func hash(_ input: HashInput) -> Digest {
        OpenSSL.hash(OpenSSL.sha2_256, digestCount: 32, input.prefix, input.body, input.suffix)
    }
}

/// SHA-512 (FIPS 180-4) through OpenSSL.
public struct SHA512: HashFunction {
    public static var algorithm: HashAlgorithm { .sha2_512 }
    var state: EVPHashState
    public init() { state = EVPHashState(md: OpenSSL.sha2_512, digestCount: 64) }
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { state.update(bytes) }
    public func finalize() -> Digest { state.finalize() }
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Digest {
        OpenSSL.hash(OpenSSL.sha2_512, digestCount: 64, bytes)
    }
    public static func hash(_ input: HashInput) -> Digest {
        OpenSSL.hash(OpenSSL.sha2_512, digestCount: 64, input.prefix, input.body, input.suffix)
    }
}

/// SHA3-256 (FIPS 202) through OpenSSL.
public struct SHA3_256: HashFunction {
    public static var algorithm: HashAlgorithm { .sha3_256 }
    var state: EVPHashState
    public init() { state = EVPHashState(md: OpenSSL.sha3_256, digestCount: 32) }
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { state.update(bytes) }
    public func finalize() -> Digest { state.finalize() }
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Digest {
        OpenSSL.hash(OpenSSL.sha3_256, digestCount: 32, bytes)
    }
    public static func hash(_ input: HashInput) -> Digest {
        OpenSSL.hash(OpenSSL.sha3_256, digestCount: 32, input.prefix, input.body, input.suffix)
    }
}

/// SHA3-512 (FIPS 202) through OpenSSL.
public struct SHA3_512: HashFunction {
    public static var algorithm: HashAlgorithm { .sha3_512 }
    var state: EVPHashState
    public init() { state = EVPHashState(md: OpenSSL.sha3_512, digestCount: 64) }
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { state.update(bytes) }
    public func finalize() -> Digest { state.finalize() }
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Digest {
        OpenSSL.hash(OpenSSL.sha3_512, digestCount: 64, bytes)
    }
    public static func hash(_ input: HashInput) -> Digest {
        OpenSSL.hash(OpenSSL.sha3_512, digestCount: 64, input.prefix, input.body, input.suffix)
    }
}
