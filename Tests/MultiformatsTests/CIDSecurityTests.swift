import Multiformats
import Testing

/// Kubo's rules for secure CIDs (issue 15, item 8). Every expectation is taken from ipfs/boxo
/// `verifcid/allowlist_test.go` (TestDefaultAllowList) and the rules of `verifcid/allowlist.go`
/// and `verifcid/cid.go`; see spec/multiformats.md, "Secure CIDs".
@Suite struct CIDSecurityTests {
    /// boxo: `assertTrue(allowlist.IsAllowed(…))` / `assertFalse(…)`.
    @Test func allowList() {
        for code: UInt64 in [0x12 /* SHA2_256 */, 0xb201 + 32 /* BLAKE2B_MIN+32 */, 0x56 /* DBL_SHA2_256 */,
                             0x1b /* KECCAK_256 */, 0x14 /* SHA3 */, 0x11 /* SHA1 */, 0x00 /* IDENTITY */] {
            #expect(CIDSecurity.isAllowed(Multicodec(rawValue: code)!), "0x\(String(code, radix: 16))")
        }
        #expect(!CIDSecurity.isAllowed(Multicodec(rawValue: 0xb201 + 5)!), "BLAKE2B_MIN+5")
        // allowlist.go: blake2b and blake2s from 160 bits (MIN+19) to their maximum; nothing past.
        #expect(CIDSecurity.isAllowed(Multicodec(rawValue: 0xb201 + 19)!) && !CIDSecurity.isAllowed(Multicodec(rawValue: 0xb201 + 18)!))
        #expect(CIDSecurity.isAllowed(Multicodec(rawValue: 0xb241 + 19)!) && !CIDSecurity.isAllowed(Multicodec(rawValue: 0xb241 + 18)!))
        #expect(CIDSecurity.isAllowed(Multicodec(rawValue: 0xb260)!) && !CIDSecurity.isAllowed(Multicodec(rawValue: 0xb261)!))
        #expect(!CIDSecurity.isAllowed(.murmur3_x64_64) && !CIDSecurity.isAllowed(.sha2_384))
    }

    /// A dag-cbor CIDv1 over a multihash of `length` bytes (boxo's `mhcid` truncates a digest
    /// of the empty input; only the length matters to the rules).
    static func cid(_ code: Multicodec, length: Int) throws -> CID {
        CID.v1(codec: .dagCBOR, multihash: try Multihash(code: code, digest: (0..<length).map { UInt8(truncatingIfNeeded: $0) }))
    }

    /// boxo's `cases` table: nil = accepted, else the error kind it expects.
    static let cases: [(code: Multicodec, length: Int, refusal: String?)] = [
        (.sha2_256, 32, nil),
        (.sha2_256, 16, "digest too small"),
        (.murmur3_x64_64, 4, "insecure hash function"),
        (.blake3, 32, nil),
        (.blake3, 69, nil),
        (.blake3, 128, nil),
        (.identity, 19, nil),   // identity below the minimum: exempt
        (.identity, 64, nil),
        (.identity, 128, nil),  // at the identity maximum
        (.identity, 129, "digest too large"),
        (.blake3, 129, "digest too large"),  // boxo's longBlake3Hex: a 129-byte blake3 digest
        // The reproduction: a 1-byte sha2-256 digest.
        (.sha2_256, 1, "digest too small"),
        (.sha2_256, 19, "digest too small"),
        (.sha2_256, 20, nil),
    ]

    @Test func acceptedAndRefusedCIDs() throws {
        for entry in Self.cases {
            let cid = try Self.cid(entry.code, length: entry.length)
            do {
                try cid.checkSecure()
                #expect(entry.refusal == nil, "\(entry.code) \(entry.length) bytes was accepted")
            } catch {
                #expect(error.code == .insecureCID)
                let refusal = try #require(entry.refusal, "\(entry.code) \(entry.length) bytes was refused: \(error)")
                #expect(error.message.contains(refusal), "\(error.message)")
            }
        }
    }

    /// boxo's long blake3 CID, parsed from its hex multihash, is refused as too large.
    @Test func boxoLongBlake3() throws {
        let hex = "1e810104e0bb39f30b1a3feb89f536c93be15055482df748674b00d26e5a75777702e9791074b7511b59d31c71c62f5a745689fa6c9497f68bdf1061fe07f518d410c0b0c27f41b3cf083f8a7fdc67a877e21790515762a754a45dcb8a356722698a7af5ed2bb608983d5aa75d4d61691ef132efe8631ce0afc15553a08fffc60ee9369b"
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        let multihash = try Multihash(bytes: bytes)
        #expect(multihash.length == 129)
        #expect(throws: MultiformatsError.self) { try CID.v1(codec: .dagCBOR, multihash: multihash).checkSecure() }
    }
}
