import CairnTestSupport
import Multiformats
import Testing

@Suite struct MultihashTests {
    /// The examples of multiformats.io/multihash ("Merkle–Damgård" hashed with each function;
    /// the digests were re-computed here with Python hashlib while writing this test).
    static let examples: [(String, Multicodec, Int)] = [
        ("11148a173fd3e32c0fa78b90fe42d305f202244e2739", .sha1, 20),
        ("122041dd7b6443542e75701aa98a0c235951a28a0d851b11564d20022ab11d2589a8", .sha2_256, 32),
        ("134052eb4dd19f1ec522859e12d89706156570f8fbab1824870bc6f8c7d235eef5f4c2cbbafd365f96fb12b1d98a0334870c2ce90355da25e6a1108a6e17c4aaebb0", .sha2_512, 64),
    ]

    @Test func decodesAndEncodesTheSpecExamples() throws {
        for (hex, code, length) in Self.examples {
            let bytes = [UInt8](hex: hex)
            let multihash = try Multihash(bytes: bytes)
            #expect(multihash.code == code)
            #expect(multihash.length == length)
            #expect(multihash.digest == Array(bytes.dropFirst(2)))
            #expect(multihash.bytes == bytes)
            #expect(multihash.encodedLength == bytes.count)
            #expect(try Multihash(code: code, digest: bytes.dropFirst(2)) == multihash)
            #expect(multihash.description == "\(code):" + hex.dropFirst(4))
            multihash.withUnsafeDigest { #expect(Array($0) == Array(bytes.dropFirst(2))) }
        }
    }

    /// A code above 127 takes a multi-byte varint: blake2b-512 = 0xb240 (multicodec table).
    @Test func multiByteCodes() throws {
        let digest = SplitMix64.bytes(seed: 3, count: 64)
        let multihash = try Multihash(code: .blake2b_512, digest: digest)
        #expect(multihash.bytes == Varint.encode(0xb240) + [0x40] + digest)
        #expect(try Multihash(bytes: multihash.bytes) == multihash)
        var out: [UInt8] = [0xaa]
        multihash.encode(into: &out)
        #expect(out == [0xaa] + multihash.bytes)
    }

    @Test func digestLengthRules() throws {
        // Truncated digests are allowed, longer ones and empty ones are not.
        #expect(try Multihash(code: .sha2_256, digest: [UInt8](repeating: 1, count: 20)).length == 20)
        #expect(throws: MultiformatsError.self) { try Multihash(code: .sha2_256, digest: [UInt8](repeating: 1, count: 33)) }
        #expect(throws: MultiformatsError.self) { try Multihash(code: .sha1, digest: [UInt8]()) }
        #expect(throws: MultiformatsError.self) { try Multihash(code: .murmur3_x64_64, digest: [UInt8](repeating: 0, count: 9)) }
        // Identity: any length 0 ... 4096; beyond 64 bytes it is kept on the heap.
        #expect(try Multihash(code: .identity, digest: [UInt8]()).length == 0)
        let big = SplitMix64.bytes(seed: 9, count: Multihash.maxDigestLength)
        let identity = try Multihash(code: .identity, digest: big)
        #expect(identity.digest == big)
        #expect(try Multihash(bytes: identity.bytes) == identity)
        #expect(throws: MultiformatsError.self) { try Multihash(code: .identity, digest: big + [0]) }
        // blake3 is variable length, unknown codes round-trip with any length.
        #expect(try Multihash(code: .blake3, digest: SplitMix64.bytes(seed: 1, count: 100)).length == 100)
        let unknown = try Multihash(code: Multicodec(rawValue: 0x300000)!, digest: [1, 2, 3])
        #expect(try Multihash(bytes: unknown.bytes) == unknown)
        let tooLong = #expect(throws: MultiformatsError.self) {
            try Multihash(code: .sha2_256, digest: [UInt8](repeating: 0, count: 40))
        }
        #expect(tooLong?.code == .digestLength)
        #expect(tooLong?.description == "sha2-256 digest of 40 bytes (must be 1...32)")
    }

    @Test func equalityAndHashingUseTheWholeValue() throws {
        let a = try Multihash(code: .identity, digest: [0])
        let b = try Multihash(code: .identity, digest: [UInt8]())
        let c = try Multihash(code: .sha2_256, digest: [0])
        #expect(a != b && a != c)
        let d1 = try Multihash(code: .identity, digest: [UInt8](repeating: 7, count: 65))
        let d2 = try Multihash(code: .identity, digest: [UInt8](repeating: 7, count: 65))
        #expect(d1 == d2)
        #expect(Set([a, b, c, d1, d2]).count == 4)
    }

    @Test func decodesAPrefixAndReportsItsLength() throws {
        let bytes = [UInt8](hex: Self.examples[1].0) + [0xde, 0xad]
        let (multihash, length) = try bytes.withUnsafeBytes { try Multihash.decode(prefixOf: $0) }
        #expect(length == 34 && multihash.code == .sha2_256)
    }

    @Test func rejectsMalformedBinary() {
        func expectError(_ bytes: [UInt8], _ code: MultiformatsError.Code, at offset: Int,
                         sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                _ = try Multihash(bytes: bytes)
                Issue.record("accepted \(bytes)", sourceLocation: sourceLocation)
            } catch {
                #expect(error.code == code && error.offset == offset, "\(error)", sourceLocation: sourceLocation)
            }
        }
        let full = [UInt8](hex: Self.examples[1].0)
        expectError(Array(full.dropLast()), .invalidLength, at: 33)        // digest cut short
        expectError(full + [0], .trailingBytes, at: 34)
        expectError([], .varintTruncated, at: 0)
        expectError([0x12], .varintTruncated, at: 1)                       // no length
        expectError([0x12, 0x80], .varintTruncated, at: 2)
        expectError([0x12, 0x21] + [UInt8](repeating: 0, count: 33), .digestLength, at: 1)
        expectError([0x00, 0x81, 0x40], .digestLength, at: 1)              // identity, 8193 bytes
        expectError([0x92, 0x00, 0x00], .varintNotMinimal, at: 1)
    }
}
