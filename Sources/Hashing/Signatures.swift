internal import CCrypto
internal import CSodium

/// Signature verification for signed records (IPNS, spec/hashing.md §Signatures): Ed25519
/// through libsodium, RSASSA-PKCS1-v1_5 with SHA-256 through OpenSSL. Verification only:
/// Cairn never holds private keys.
public enum SignatureVerifier {
    /// Whether `signature` is `publicKey`'s Ed25519 signature (RFC 8032) of `message`.
    /// `publicKey` is the 32-byte raw key; any other length is false.
    public static func ed25519(publicKey: [UInt8], signature: [UInt8], message: [UInt8]) -> Bool {
        guard Sodium.ready, publicKey.count == Int(crypto_sign_publickeybytes()),
              signature.count == Int(crypto_sign_bytes()) else { return false }
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0
    }

    /// Whether `signature` is the RSASSA-PKCS1-v1_5 SHA-256 signature (RFC 8017 §8.2) of
    /// `message` by the RSA key `publicKeyDER` (a DER SubjectPublicKeyInfo, as libp2p carries
    /// it). A key that does not parse, or is not RSA, is false.
    public static func rsaSHA256(publicKeyDER: [UInt8], signature: [UInt8], message: [UInt8]) -> Bool {
        let key: OpaquePointer? = publicKeyDER.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_PUBKEY(nil, &cursor, buffer.count)
        }
        guard let key else { return false }
        defer { EVP_PKEY_free(key) }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA, let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key) == 1 else { return false }
        return EVP_DigestVerify(context, signature, signature.count, message, message.count) == 1
    }
}
