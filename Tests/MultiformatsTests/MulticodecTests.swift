import Multiformats
import Testing

@Suite struct MulticodecTests {
    /// Name and code pairs as listed in the multicodec table
    /// (github.com/multiformats/multicodec, table.csv; also checked against the table bundled
    /// with the Python `multiformats` 0.3.1 package).
    static let table: [(String, UInt64, Multicodec)] = [
        ("identity", 0x00, .identity), ("cidv1", 0x01, .cidv1), ("sha1", 0x11, .sha1),
        ("sha2-256", 0x12, .sha2_256), ("sha2-512", 0x13, .sha2_512), ("sha3-512", 0x14, .sha3_512),
        ("sha3-384", 0x15, .sha3_384), ("sha3-256", 0x16, .sha3_256), ("sha3-224", 0x17, .sha3_224),
        ("blake3", 0x1e, .blake3), ("sha2-384", 0x20, .sha2_384), ("murmur3-x64-64", 0x22, .murmur3_x64_64),
        ("cbor", 0x51, .cbor), ("raw", 0x55, .raw), ("dag-pb", 0x70, .dagPB), ("dag-cbor", 0x71, .dagCBOR),
        ("libp2p-key", 0x72, .libp2pKey), ("dag-json", 0x0129, .dagJSON), ("json", 0x0200, .json),
        ("car", 0x0202, .car), ("sha2-224", 0x1013, .sha2_224), ("sha2-512-224", 0x1014, .sha2_512_224),
        ("sha2-512-256", 0x1015, .sha2_512_256), ("blake2b-256", 0xb220, .blake2b_256),
        ("blake2b-512", 0xb240, .blake2b_512), ("blake2s-256", 0xb260, .blake2s_256),
    ]

    @Test func namesAndCodesMatchTheTable() throws {
        for (name, code, codec) in Self.table {
            #expect(codec.rawValue == code, "\(name)")
            #expect(codec.name == name)
            #expect(Multicodec(name: name) == codec)
            #expect(try Multicodec.named(name) == codec)
            #expect(codec.description == name)
        }
        #expect(Set(Multicodec.allKnown) == Set(Self.table.map(\.2)))
        #expect(Multicodec.allKnown == Multicodec.allKnown.sorted())
    }

    @Test func unknownCodesRoundTrip() throws {
        let unknown = try #require(Multicodec(rawValue: 0x3039))
        #expect(unknown.name == nil)
        #expect(unknown.description == "0x3039")
        #expect(Multicodec(rawValue: Varint.maxValue) != nil)
        #expect(Multicodec(rawValue: Varint.maxValue + 1) == nil)
        #expect(Multicodec(name: "sha2_256") == nil)
        #expect(throws: MultiformatsError(.unknownCodec, "unknown multicodec name 'nope'")) {
            _ = try Multicodec.named("nope")
        }
    }
}
