/// The hash algorithms Cairn computes, named by their multicodec table names.
///
/// The raw value is the multicodec name (multiformats/multicodec `table.csv`, tag `multihash`),
/// so `HashAlgorithm(name: "sha2-256")` round-trips with the names Kubo prints. See
/// `spec/hashing.md` for the normative rules (codes, digest lengths, which library computes what).
public enum HashAlgorithm: String, Sendable, Hashable, CaseIterable {
    /// The input itself (multihash `0x00`); the digest is as long as the input.
    case identity = "identity"
    /// SHA-256, FIPS 180-4; computed by OpenSSL (libcrypto EVP).
    case sha2_256 = "sha2-256"
    /// SHA-512, FIPS 180-4; computed by OpenSSL.
    case sha2_512 = "sha2-512"
    /// SHA3-256, FIPS 202; computed by OpenSSL.
    case sha3_256 = "sha3-256"
    /// SHA3-512, FIPS 202; computed by OpenSSL.
    case sha3_512 = "sha3-512"
    /// BLAKE2b with a 32-byte output, RFC 7693; computed by libsodium.
    case blake2b_256 = "blake2b-256"
    /// BLAKE2b with a 64-byte output, RFC 7693; computed by libsodium.
    case blake2b_512 = "blake2b-512"
    /// BLAKE3 with its default 32-byte output; computed by Cairn itself.
    case blake3 = "blake3"

    /// Looks an algorithm up by its multicodec name (exact, lower-case match).
    @inlinable
    public init?(name: String) {
        self.init(rawValue: name)
    }

    /// The multicodec name, e.g. `"sha2-256"`.
    @inlinable
    public var name: String { rawValue }

    /// The multihash function code from the multicodec table.
    @inlinable
    public var multihashCode: UInt64 {
        switch self {
        case .identity: return 0x00
        case .sha2_256: return 0x12
        case .sha2_512: return 0x13
        case .sha3_256: return 0x16
        case .sha3_512: return 0x14
        case .blake2b_256: return 0xb220
        case .blake2b_512: return 0xb240
        case .blake3: return 0x1e
        }
    }

    /// Looks an algorithm up by its multihash code.
    @inlinable
    public init?(multihashCode: UInt64) {
        guard let found = HashAlgorithm.allCases.first(where: { $0.multihashCode == multihashCode }) else {
            return nil
        }
        self = found
    }

    /// The digest length in bytes; `nil` for `identity`, whose digest is the input itself.
    @inlinable
    public var digestLength: Int? {
        switch self {
        case .identity: return nil
        case .sha2_256, .sha3_256, .blake2b_256, .blake3: return 32
        case .sha2_512, .sha3_512, .blake2b_512: return 64
        }
    }

    /// The digest length for an input of `inputLength` bytes (differs from `digestLength`
    /// only for `identity`).
    @inlinable
    public func digestLength(forInputLength inputLength: Int) -> Int {
        digestLength ?? inputLength
    }
}
