import CairnTestSupport
import Foundation
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

    /// An input and its digest from another implementation (crosscheck.tsv: hashlib, PyPI
    /// blake3), the 100000-byte row; identity's digest is the input itself.
    static func oracle(_ algorithm: HashAlgorithm) throws -> (input: [UInt8], hex: String) {
        if algorithm == .identity {
            let input = SplitMix64.bytes(seed: 1, count: 3000)
            return (input, Hex.encode(input))
        }
        let row = try #require(CrossCheckTests.rows.first { $0.algorithm == algorithm && $0.input == "sm103233_100000" })
        return (try #require(Vectors.input(named: row.input)), row.digest)
    }

    @Test("a copied hasher forks; finalize does not consume", arguments: HashAlgorithm.allCases)
    func valueSemantics(_ algorithm: HashAlgorithm) throws {
        let (input, expected) = try Self.oracle(algorithm)
        let cut = input.count / 3
        var first = algorithm.makeHasher()
        first.update(input[..<cut])
        _ = first.finalize()  // must not consume
        var second = first  // fork
        second.update(input[cut...])
        var third = first  // another fork, taken off course
        third.update([0])
        first.update(input[cut...])
        // finalize twice is stable, and both forks give the other implementation's digest.
        #expect(first.finalize().hex == expected)
        #expect(first.finalize().hex == expected)
        #expect(second.finalize().hex == expected)
        #expect(third.finalize().hex != expected)
    }

    @Test("concrete hashers equal the other implementation's digests")
    func concreteTypes() throws {
        func check<H: HashFunction>(_: H.Type) throws {
            let (input, expected) = try Self.oracle(H.algorithm)
            var hasher = H()
            hasher.update(input)
            #expect(hasher.finalize().hex == expected, "\(H.self)")
            #expect(H.hash(input).hex == expected, "\(H.self)")
        }
        try check(SHA256.self)
        try check(SHA512.self)
        try check(SHA3_256.self)
        try check(SHA3_512.self)
        try check(BLAKE2b256.self)
        try check(BLAKE2b512.self)
        try check(BLAKE3.self)
        try check(IdentityHash.self)
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
