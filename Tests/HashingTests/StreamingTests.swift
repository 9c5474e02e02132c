import CairnTestSupport
import Hashing
import Testing

@Suite("Streaming")
struct StreamingTests {
    static let lengths = [0, 1, 63, 64, 65, 127, 128, 129, 1023, 1024, 1025, 3000, 16 * 1024 + 7, 70_001, 262_158]

    @Test("random split points give the one-shot digest", arguments: HashAlgorithm.allCases)
    func randomSplits(_ algorithm: HashAlgorithm) {
        var random = SplitMix64(seed: 0x5EED_0000 + UInt64(algorithm.multihashCode))
        for length in Self.lengths {
            let input = SplitMix64.bytes(seed: UInt64(length) &+ 99, count: length)
            let expected = algorithm.hash(input)
            #expect(expected.count == algorithm.digestLength(forInputLength: length))
            for _ in 0..<4 {
                var hasher = algorithm.makeHasher()
                var offset = 0
                while offset < length {
                    // Mostly short pieces, sometimes long ones, sometimes empty ones.
                    let limit = Bool.random(using: &random) ? 70 : 5000
                    let piece = min(length - offset, Int.random(in: 0...limit, using: &random))
                    hasher.update(input[offset..<(offset + piece)])
                    offset += piece
                }
                #expect(hasher.finalize() == expected, "\(algorithm.rawValue) length \(length)")
            }
        }
    }

    @Test("a copied hasher forks; finalize does not consume", arguments: HashAlgorithm.allCases)
    func valueSemantics(_ algorithm: HashAlgorithm) {
        let a = SplitMix64.bytes(seed: 1, count: 3000)
        let b = SplitMix64.bytes(seed: 2, count: 5000)
        var first = algorithm.makeHasher()
        first.update(a)
        let prefixDigest = first.finalize()
        var second = first  // fork
        first.update(b)
        second.update(a)
        #expect(prefixDigest == algorithm.hash(a))
        #expect(first.finalize() == algorithm.hash(a + b))
        #expect(second.finalize() == algorithm.hash(a + a))
        // finalize twice is stable.
        #expect(first.finalize() == first.finalize())
    }

    @Test("concrete hashers equal the algorithm dispatch")
    func concreteTypes() {
        let input = SplitMix64.bytes(seed: 3, count: 10_000)
        func check<H: HashFunction>(_: H.Type) {
            var hasher = H()
            hasher.update(input)
            #expect(hasher.finalize() == H.algorithm.hash(input))
            #expect(H.hash(input) == H.algorithm.hash(input))
        }
        check(SHA256.self)
        check(SHA512.self)
        check(SHA3_256.self)
        check(SHA3_512.self)
        check(BLAKE2b256.self)
        check(BLAKE2b512.self)
        check(BLAKE3.self)
        check(IdentityHash.self)
    }

    @Test("segmented one-shot equals hashing the concatenation", arguments: HashAlgorithm.allCases)
    func segments(_ algorithm: HashAlgorithm) {
        let prefix = SplitMix64.bytes(seed: 4, count: 11)
        let body = SplitMix64.bytes(seed: 5, count: 262_144)
        let suffix = SplitMix64.bytes(seed: 6, count: 3)
        let digest = prefix.withUnsafeBytes { p in
            body.withUnsafeBytes { b in
                suffix.withUnsafeBytes { s in
                    algorithm.hash(HashInput(prefix: p, body: b, suffix: s))
                }
            }
        }
        #expect(digest == algorithm.hash(prefix + body + suffix))
    }
}

@Suite("BLAKE3 boundaries")
struct BLAKE3BoundaryTests {
    /// Update boundaries exactly on block (64) and chunk (1024) edges, where the hasher must
    /// hold back a full block/chunk until it knows more input follows.
    @Test("updates cut on block and chunk edges", arguments: [
        [1024, 1024], [64, 960, 1024], [1023, 1, 1024], [1024, 1], [2048, 1025], [64, 64, 64], [1025, 1023, 0, 2048],
    ])
    func edges(_ pieces: [Int]) {
        let input = SplitMix64.bytes(seed: 77, count: pieces.reduce(0, +))
        var hasher = BLAKE3()
        var offset = 0
        for piece in pieces {
            hasher.update(input[offset..<(offset + piece)])
            offset += piece
        }
        // The reference: bytes fed one at a time never take the whole-chunk fast path.
        var reference = BLAKE3()
        for byte in input { reference.update([byte]) }
        #expect(hasher.finalize() == reference.finalize())
        #expect(hasher.finalize() == BLAKE3.hash(input))
    }
}
