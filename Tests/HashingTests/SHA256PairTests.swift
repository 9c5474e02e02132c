import CairnTestSupport
import Foundation
import Hashing
import Testing

/// `SHA256Pair`: two messages hashed side by side, each fed in pieces of any length, must give
/// each message's SHA-256 — checked against FIPS 180-4's examples, the cross-check row of
/// another implementation (hashlib), and OpenSSL's one-shot digest of the same bytes.
@Suite("SHA256Pair")
struct SHA256PairTests {
    static var empty: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

    @Test("FIPS 180-4 examples in either lane, beside another message")
    func publishedExamples() {
        // FIPS 180-4 (and its example document): SHA-256("abc") and the two-block message.
        let abc = Array("abc".utf8)
        let twoBlocks = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        let pair = SHA256Pair()
        abc.withUnsafeBytes { a in twoBlocks.withUnsafeBytes { b in pair.update(first: a, second: b) } }
        #expect(pair.first.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(pair.second.hex == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // The empty message.
        #expect(SHA256Pair().first.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("the cross-check row of another implementation, split against a second message")
    func crossCheckRow() throws {
        let (input, expected) = try StreamingTests.oracle(.sha2_256)
        let other = SplitMix64.bytes(seed: 7, count: 250_000)
        let pair = SHA256Pair()
        var a = 0, b = 0
        var random = SplitMix64(seed: 0x9A12)
        input.withUnsafeBytes { ia in
            other.withUnsafeBytes { ib in
                while a < ia.count || b < ib.count {
                    let na = min(ia.count - a, Int.random(in: 0...9000, using: &random))
                    let nb = min(ib.count - b, Int.random(in: 0...20000, using: &random))
                    pair.update(first: UnsafeRawBufferPointer(rebasing: ia[a..<a + na]),
                                second: UnsafeRawBufferPointer(rebasing: ib[b..<b + nb]))
                    a += na
                    b += nb
                }
            }
        }
        #expect(pair.first.hex == expected)
        #expect(pair.second == HashAlgorithm.sha2_256.hash(other))
    }

    @Test("random pieces of two messages of every length class give OpenSSL's digests")
    func randomPieces() {
        var random = SplitMix64(seed: 0x50A1)
        let lengths = [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, 65_537, 300_001]
        for (index, lengthA) in lengths.enumerated() {
            let lengthB = lengths[(index * 7 + 3) % lengths.count]
            let first = SplitMix64.bytes(seed: UInt64(lengthA) &+ 11, count: lengthA)
            let second = SplitMix64.bytes(seed: UInt64(lengthB) &+ 12, count: lengthB)
            for round in 0..<3 {
                let pair = SHA256Pair()
                var a = 0, b = 0
                first.withUnsafeBytes { fa in
                    second.withUnsafeBytes { sb in
                        while a < lengthA || b < lengthB {
                            // Short pieces (partial blocks), long ones, empty ones, one side alone.
                            let limit = round == 0 ? 70 : 40_000
                            let na = min(lengthA - a, Int.random(in: 0...limit, using: &random))
                            let nb = Bool.random(using: &random) ? 0 : min(lengthB - b, Int.random(in: 0...limit, using: &random))
                            pair.update(first: UnsafeRawBufferPointer(rebasing: fa[a..<a + na]),
                                        second: UnsafeRawBufferPointer(rebasing: sb[b..<b + nb]))
                            a += na
                            b += nb
                        }
                    }
                }
                #expect(pair.first == HashAlgorithm.sha2_256.hash(first), "first \(lengthA) round \(round)")
                #expect(pair.second == HashAlgorithm.sha2_256.hash(second), "second \(lengthB) round \(round)")
                // The digest is read without ending the stream: more bytes can follow.
                pair.update(first: Self.empty, second: Self.empty)
                #expect(pair.first == HashAlgorithm.sha2_256.hash(first))
            }
        }
    }
}
