import CairnTestSupport
import Hashing
import Testing

@Suite("Algorithms and digests")
struct AlgorithmTests {
    /// Codes and names from the multicodec table (multiformats/multicodec `table.csv`, tag
    /// `multihash`): identity 0x00, sha2-256 0x12, sha2-512 0x13, sha3-512 0x14, sha3-256 0x16,
    /// blake3 0x1e, blake2b-256 0xb220, blake2b-512 0xb240.
    @Test("multicodec names, codes and digest lengths")
    func table() {
        let expected: [(String, UInt64, Int?)] = [
            ("identity", 0x00, nil), ("sha2-256", 0x12, 32), ("sha2-512", 0x13, 64),
            ("sha3-256", 0x16, 32), ("sha3-512", 0x14, 64), ("blake2b-256", 0xb220, 32),
            ("blake2b-512", 0xb240, 64), ("blake3", 0x1e, 32),
        ]
        #expect(HashAlgorithm.allCases.count == expected.count)
        for (name, code, length) in expected {
            let algorithm = HashAlgorithm(name: name)
            #expect(algorithm?.rawValue == name)
            #expect(algorithm?.multihashCode == code)
            #expect(algorithm?.digestLength == length)
            #expect(HashAlgorithm(multihashCode: code) == algorithm)
        }
        #expect(HashAlgorithm(name: "SHA2-256") == nil)
        #expect(HashAlgorithm(name: "md5") == nil)
        #expect(HashAlgorithm(multihashCode: 0x11) == nil)
    }

    /// Digest lengths from the algorithms' definitions (FIPS 180-4, FIPS 202, RFC 7693, the
    /// BLAKE3 default output), not from the code: identity's digest is its input.
    static let publishedLengths: [String: Int] = [
        "sha2-256": 32, "sha2-512": 64, "sha3-256": 32, "sha3-512": 64, "blake2b-256": 32, "blake2b-512": 64, "blake3": 32,
    ]

    @Test("every algorithm's digest has its published length", arguments: HashAlgorithm.allCases)
    func lengths(_ algorithm: HashAlgorithm) {
        for length in [0, 5, 64, 65, 1000] {
            let digest = algorithm.hash(SplitMix64.bytes(seed: 8, count: length))
            let expected = algorithm == .identity ? length : Self.publishedLengths[algorithm.rawValue]
            #expect(digest.count == expected, "\(algorithm.rawValue) of \(length) bytes")
            #expect(digest.count == algorithm.digestLength(forInputLength: length))
            #expect(digest.bytes.count == expected)
        }
    }

    @Test("identity: inline up to 64 bytes, heap beyond, equal by bytes")
    func identity() {
        for length in [0, 1, 64, 65, 300] {
            let input = SplitMix64.bytes(seed: 12, count: length)
            let digest = HashAlgorithm.identity.hash(input)
            #expect(digest.bytes == input)
            #expect(digest == Digest(bytes: input))
            var hasher = HashAlgorithm.identity.makeHasher()
            hasher.update(input)
            #expect(hasher.finalize() == digest)
        }
    }

    @Test("Digest: hex, equality, hashing, withUnsafeBytes")
    func digest() {
        let a = HashAlgorithm.sha2_256.hash(Array("abc".utf8))
        // FIPS 180-4 example value for SHA-256("abc").
        #expect(a.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(a.description == a.hex)
        #expect(a.hex == Hex.encode(a.bytes))
        let b = Digest(bytes: a.bytes)
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        #expect(a != HashAlgorithm.sha2_256.hash(Array("abd".utf8)))
        // Same bytes, different lengths: not equal.
        #expect(Digest(bytes: [1, 2, 0]) != Digest(bytes: [1, 2]))
        #expect(a.withUnsafeBytes { Array($0) } == a.bytes)
        #expect(Digest().count == 0)
        let built = Digest(unsafeUninitializedCount: 3) { out in
            out[0] = 7; out[1] = 8; out[2] = 9
        }
        #expect(built.bytes == [7, 8, 9])
    }

    @Test("libsodium's BLAKE2b-256 matches RFC 7693's definition via hashlib")
    func blake2b256() {
        // Python: hashlib.blake2b(b"abc", digest_size=32).hexdigest() (BLAKE2b with outlen 32
        // in the parameter block, RFC 7693 §2.5), recorded when this test was written.
        #expect(HashAlgorithm.blake2b_256.hash(Array("abc".utf8)).hex
            == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319")
        // hashlib.blake2b(b"", digest_size=32).hexdigest()
        #expect(HashAlgorithm.blake2b_256.hash([]).hex
            == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")
    }
}
