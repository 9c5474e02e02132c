/// The rules by which Kubo refuses a CID as insecure: its block could be forged or found by a
/// brute-force search (a truncated digest, a weak or non-cryptographic hash), so it must not be
/// accepted from outside. Source: ipfs/boxo `verifcid/allowlist.go` (`DefaultAllowlist`) and
/// `verifcid/cid.go` (`ValidateCid`); see spec/multiformats.md §"Secure CIDs".
public enum CIDSecurity {
    /// Every digest but identity's must have at least this many bytes (`DefaultMinDigestSize`).
    public static let minimumDigestLength = 20
    /// No digest may have more than this many bytes (`DefaultMaxDigestSize`).
    public static let maximumDigestLength = 128
    /// An identity multihash holds at most this many bytes (`DefaultMaxIdentityDigestSize`).
    public static let maximumIdentityLength = 128

    /// Whether Kubo's default allow-list accepts this multihash function: sha1, sha2-256,
    /// sha2-512, dbl-sha2-256, sha3-*, shake-256, keccak-*, blake3, identity, and the blake2b
    /// and blake2s variants of at least 160 bits.
    public static func isAllowed(_ code: Multicodec) -> Bool {
        switch code.rawValue {
        case 0x00,  // identity
             0x11,  // sha1
             0x12, 0x13,  // sha2-256, sha2-512
             0x14, 0x15, 0x16, 0x17,  // sha3-512, sha3-384, sha3-256, sha3-224
             0x19,  // shake-256
             0x1a, 0x1b, 0x1c, 0x1d,  // keccak-224, -256, -384, -512
             0x1e,  // blake3
             0x56:  // dbl-sha2-256
            return true
        case 0xb214...0xb240:  // blake2b-160 … blake2b-512
            return true
        case 0xb254...0xb260:  // blake2s-160 … blake2s-256
            return true
        default:
            return false
        }
    }

    /// Throws `.insecureCID` unless Kubo would accept `multihash` in a CID.
    public static func check(_ multihash: Multihash) throws(MultiformatsError) {
        let code = multihash.code
        guard isAllowed(code) else {
            throw MultiformatsError(.insecureCID, "potentially insecure hash function \(code) not allowed")
        }
        let isIdentity = code == .identity
        let minimum = isIdentity ? 0 : minimumDigestLength
        let maximum = isIdentity ? maximumIdentityLength : maximumDigestLength
        if multihash.length < minimum {
            throw MultiformatsError(.insecureCID, "digest too small: \(code) digest got \(multihash.length) bytes, minimum \(minimum)")
        }
        if multihash.length > maximum {
            throw MultiformatsError(.insecureCID, "digest too large: \(code) digest got \(multihash.length) bytes, maximum \(maximum)")
        }
    }
}

extension CID {
    /// Throws `.insecureCID` unless Kubo would accept this CID from outside (`CIDSecurity`).
    public func checkSecure() throws(MultiformatsError) {
        try CIDSecurity.check(multihash)
    }
}
