import CairnTestSupport
import Multiformats
import Testing

/// `CIDList` keeps CIDs in their binary form: each reads back as the CID appended, whatever
/// its version, codec or digest length, and its bytes are the CID's own.
@Suite struct CIDListTests {
    /// The CID spec's example (zb2rhe5P…, raw sha2-256), the CIDv0 of the empty string and its
    /// CIDv1, an identity CID (bafkqaaa: the empty identity digest) and a 64-byte digest.
    static let samples: [CID] = {
        let sha512 = try! Multihash(code: .sha2_512, digest: [UInt8](repeating: 7, count: 64))
        return [
            try! CID("zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA"),
            try! CID("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n"),
            try! CID("bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"),
            try! CID("bafkqaaa"),
            CID.v1(codec: .dagCBOR, multihash: sha512),
        ]
    }()

    @Test func readsBackWhatWasAppended() {
        var list = CIDList()
        for cid in Self.samples { list.append(cid) }
        #expect(list.count == Self.samples.count)
        #expect(Array(list) == Self.samples)
        for (i, cid) in Self.samples.enumerated() {
            #expect(list.encodedLength(at: i) == cid.bytes.count)
            #expect(list.withEncoded(i) { Array($0) } == cid.bytes)
        }
        #expect(CIDList(Self.samples) == list)
        let literal: CIDList = [Self.samples[1], Self.samples[3]]
        #expect(Array(literal) == [Self.samples[1], Self.samples[3]])
    }

    @Test func copiesFromAnotherList() {
        let list = CIDList(Self.samples)
        var picked = CIDList()
        for i in [4, 0, 3] { picked.append(list, at: i) }
        #expect(Array(picked) == [Self.samples[4], Self.samples[0], Self.samples[3]])
        #expect(CIDList().isEmpty)
    }
}
