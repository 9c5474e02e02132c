import CairnTestSupport
import Multiformats
import Testing

@Suite struct CIDTests {
    /// The example of the CID spec README (github.com/multiformats/cid, "Human Readable CIDs"):
    /// base58btc - cidv1 - raw - sha2-256-256-6e6ff795….
    @Test func cidSpecExample() throws {
        let text = "zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA"
        let cid = try CID(text)
        #expect(cid.version == .v1)
        #expect(cid.codec == .raw)
        #expect(cid.multihash.code == .sha2_256)
        #expect(cid.multihash.digest == [UInt8](hex: "6e6ff7950a36187a801613426e858dce686cd7d7e3c0fc42ee0330072d245c95"))
        #expect(try cid.string(base: .base58btc) == text)
        #expect(try CID(cid.description) == cid)
        #expect(cid.description.hasPrefix("bafkrei"))
    }

    /// The dag-pb CIDv0 of the SHA-256 of the empty string (e3b0c442…, FIPS 180-2), and its
    /// CIDv1 as the Python `multiformats` 0.3.1 reference prints it (run here while writing).
    @Test func v0ToV1() throws {
        let v0 = try CID("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n")
        #expect(v0.version == .v0 && v0.codec == .dagPB)
        #expect(v0.multihash.digest == [UInt8](hex: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
        let v1 = v0.toV1()
        #expect(v1.description == "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
        #expect(v1.bytes == [0x01, 0x70] + v0.bytes)
        #expect(try v1.toV0() == v0)
        #expect(v0 != v1)
        #expect(v0.toV1() == v1.toV1())
    }

    /// Every root in shared/vectors/cids.tsv parses, prints back identically and survives
    /// binary round trips; every v0 survives v0 -> v1 -> binary -> v1 -> v0.
    @Test func sharedVectorRoots() throws {
        let rows = try Vectors.tsv("cids.tsv")
        #expect(rows.count > 400)
        var v0Count = 0
        for row in rows {
            let text = try #require(row["root_cid"])
            let cid = try CID(text)
            #expect(cid.description == text)
            #expect(try CID(bytes: cid.bytes) == cid)
            if cid.version == .v0 {
                v0Count += 1
                #expect(try cid.string(base: .base58btc) == text)
                let v1 = cid.toV1()
                let back = try CID(bytes: v1.bytes)
                #expect(back == v1 && back.version == .v1 && back.codec == .dagPB)
                #expect(try CID(v1.description) == v1)
                #expect(try back.toV0() == cid)
            } else {
                #expect(try cid.string() == text)
            }
            for base in Multibase.allCases where base != .identity && cid.version == .v1 {
                #expect(try CID(cid.string(base: base)) == cid, "\(text) in \(base)")
            }
        }
        #expect(v0Count > 100)
    }

    /// For single-chunk files the default (v0) import and `--cid-version=1 --raw-leaves=false`
    /// store the same dag-pb block, so Kubo's two roots in cids.tsv must be v0/v1 of each other.
    @Test func kuboV0AndV1RootsAgreeForSingleBlockFiles() throws {
        let rows = try Vectors.tsv("cids.tsv")
        var checked = 0
        for input in ["sm1_0", "sm1_1", "sm1_4095", "sm1_4096", "sm1_262143", "sm1_262144",
                      "sm2_0", "sm2_1", "sm2_4095", "sm2_4096", "sm2_262143", "sm2_262144"] {
            guard let v0 = rows.first(where: { $0["input"] == input && $0["flags"] == "(none)" })?["root_cid"],
                  let v1 = rows.first(where: { $0["input"] == input && $0["flags"] == "--cid-version=1 --raw-leaves=false" })?["root_cid"]
            else { continue }
            #expect(try CID(v0).toV1() == CID(v1), "\(input)")
            #expect(try CID(v1).toV0().description == v0)
            checked += 1
        }
        #expect(checked >= 6)
    }

    /// The inline (identity-hash) CIDv1 of an empty UnixFS directory, `bafyaabakaieac`
    /// (UnixFS spec / IPIP-499, as listed in shared/reference/external-vectors.md).
    @Test func identityMultihashCID() throws {
        let cid = try CID("bafyaabakaieac")
        #expect(cid.codec == .dagPB && cid.multihash.code == .identity)
        #expect(cid.multihash.digest == [0x0a, 0x02, 0x08, 0x01])
        #expect(cid.description == "bafyaabakaieac")
        let long = CID.v1(codec: .raw, multihash: try Multihash(code: .identity, digest: SplitMix64.bytes(seed: 5, count: 300)))
        #expect(try CID(long.description) == long)
        #expect(try CID(long.string(base: .base58btc)) == long)
    }

    @Test func mixedCaseAndOtherBasesParse() throws {
        let lower = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
        let cid = try CID(lower)
        #expect(try CID(lower.uppercased()) == cid)
        #expect(try CID(Substring(lower)) == cid)
        #expect(try CID("f" + Hex.encode(cid.bytes)) == cid)
        #expect(try cid.string(base: .base36) == Multibase.base36.encode(cid.bytes))
    }

    @Test func binaryStreamDecoding() throws {
        let v0 = try CID("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH")
        let v1 = try CID("bafk2bzaceahfouoae3suhmxivmxlayez3kq5dzo7i53y654h7kvultprf7r2q")
        var stream: [UInt8] = []
        v0.encode(into: &stream)
        v1.encode(into: &stream)
        stream += [0xff]
        try stream.withUnsafeBytes { raw in
            let (first, n1) = try CID.decode(prefixOf: raw)
            #expect(first == v0 && n1 == 34)
            let (second, n2) = try CID.decode(prefixOf: UnsafeRawBufferPointer(rebasing: raw[n1...]))
            #expect(second == v1 && n1 + n2 == raw.count - 1)
        }
        #expect(v1.multihash.code == .blake2b_256 && v1.encodedLength == v1.bytes.count)
        #expect(Set([v0, v1, v0.toV1(), try CID(v0.description)]).count == 3)
    }

    @Test func constructors() throws {
        let digest = SplitMix64.bytes(seed: 11, count: 32)
        let sha = try Multihash(code: .sha2_256, digest: digest)
        #expect(try CID.v0(sha).bytes == [0x12, 0x20] + digest)
        #expect(CID.v1(codec: .dagCBOR, multihash: sha).bytes == [0x01, 0x71, 0x12, 0x20] + digest)
        // A v0 needs a full sha2-256 digest.
        #expect(throws: MultiformatsError.self) { try CID.v0(Multihash(code: .sha2_512, digest: SplitMix64.bytes(seed: 1, count: 64))) }
        #expect(throws: MultiformatsError.self) { try CID.v0(Multihash(code: .sha2_256, digest: digest.prefix(20))) }
        #expect(throws: MultiformatsError.self) { try CID.v1(codec: .raw, multihash: sha).toV0() }
    }

    static func expectError(_ text: String, _ code: MultiformatsError.Code, at offset: Int? = nil,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let cid = try CID(text)
            Issue.record("parsed \(text) as \(cid)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code && error.offset == offset, "\(text): \(error)", sourceLocation: sourceLocation)
        }
    }

    static func expectError(bytes: [UInt8], _ code: MultiformatsError.Code, at offset: Int?,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let cid = try CID(bytes: bytes)
            Issue.record("parsed \(bytes) as \(cid)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code && error.offset == offset, "\(bytes): \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func rejectsMalformedText() throws {
        let v0 = try CID("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n")
        // A CIDv0 must not carry a multibase prefix (CID spec, decoding algorithm step 1).
        Self.expectError(Multibase.base58btc.encode(v0.bytes), .invalidCID)
        Self.expectError(Multibase.base32.encode(v0.bytes), .invalidCID)
        // Unknown prefix, bad characters (offset into the text), truncation, empty.
        Self.expectError("Qmdf", .unknownMultibase, at: 0)
        Self.expectError("", .invalidLength, at: 0)
        Self.expectError("bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvy1u", .invalidCharacter, at: 57)
        Self.expectError("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR10", .invalidCharacter, at: 45)
        Self.expectError("bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvy", .invalidLength)
        Self.expectError("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1nn", .unknownMultibase, at: 0)
        // A 46-character Qm… text that is not a sha2-256 multihash.
        Self.expectError("Qm" + String(repeating: "1", count: 44), .invalidCID)
        // v0 cannot be written in another base; no CID is written in identity.
        #expect(throws: MultiformatsError.self) { try v0.string(base: .base32) }
        #expect(throws: MultiformatsError.self) { try v0.toV1().string(base: .identity) }
        #expect(try v0.string(base: .base58btc) == v0.description)
    }

    @Test func rejectsMalformedBinary() throws {
        let v1 = try CID("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku").bytes
        Self.expectError(bytes: v1 + [0], .trailingBytes, at: v1.count)
        Self.expectError(bytes: Array(v1.dropLast()), .invalidLength, at: v1.count - 1)
        Self.expectError(bytes: [], .invalidCID, at: 0)
        Self.expectError(bytes: [0x02] + v1.dropFirst(), .unsupportedCIDVersion, at: 0)
        Self.expectError(bytes: [0x00] + v1.dropFirst(), .invalidCID, at: 0)
        Self.expectError(bytes: [0x01, 0x80], .varintTruncated, at: 2)
        // 0x12 starts a CIDv0, which must be 12 20 + 32 bytes.
        Self.expectError(bytes: [0x12, 0x20] + [UInt8](repeating: 0, count: 31), .invalidCID, at: 0)
        Self.expectError(bytes: [0x12, 0x14] + [UInt8](repeating: 0, count: 20), .invalidCID, at: 0)
        Self.expectError(bytes: [0x12, 0x20] + [UInt8](repeating: 0, count: 33), .trailingBytes, at: 34)
    }
}
