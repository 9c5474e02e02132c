@testable import CAR
import CairnTestSupport
import Blocks
import Multiformats
import Testing

/// CARs written by go-car, as published in ipld/js-car's test fixtures (test/fixtures.js:
/// `goCarBytes`, a go-car DFS export of carv1-basic; `goCarV2Bytes`, go-car's CARv2 of
/// carv2-basic with its IndexSorted index). Stored as hex in Tests/Fixtures/car/ (see README).
@Suite struct FixtureTests {
    @Test func goCarV1IsReadAndVerified() throws {
        let car = try CARTestSupport.fixture("go-car-v1-dfs.hex")
        var options = CARVerifyOptions()
        options.checkComplete = false   // it holds dag-cbor blocks, whose links Cairn does not follow
        let (summary, blocks) = try CARTestSupport.readAll(car, options: options)
        // Roots and section offsets as listed next to the fixture (`goCarRoots`, `goCarIndex`).
        #expect(summary.header.roots.map(\.description) == [
            "bafyreihyrpefhacm6kkp4ql6j6udakdit7g3dmkzfriqfykhjw6cad5lrm",
            "bafyreidj5idub6mapiupjwjsyyxhyhedxycv4vihfsicm2vt46o7morwlm"])
        #expect(blocks.map(\.2) == [100, 192, 325, 366, 496, 537, 619, 660])
        #expect(blocks[1].0.description == "QmNX6Tffavsya4xgBi2VJQnSuqy9GsxongxZZ9uZBqp16d")
        #expect(summary.header.version == 1 && summary.blockCount == 8)
    }

    @Test func writerReproducesGoCarV1ByteForByte() throws {
        let car = try CARTestSupport.fixture("go-car-v1-dfs.hex")
        var options = CARVerifyOptions()
        options.requireRoots = true
        let (summary, blocks) = try CARTestSupport.readAll(car, options: options)
        var writer = try CARWriter(output: CARMemoryOutput(), roots: summary.header.roots)
        for (cid, bytes, _) in blocks { try writer.put(Block(cid: cid, bytes: bytes)) }
        try writer.finish()
        #expect(writer.output.bytes == car)
    }

    /// The fixture's index predates go-car's release layout: its bytes start straight with the
    /// bucket count, without the index codec varint that go-car's `index.WriteTo` writes and
    /// `index.ReadFrom` requires (ipld/go-car v2/index/index.go). go-car's reader rejects it
    /// ("unknown codec: 1"), and so does Cairn; the payload and header are still checked.
    static func indexStart(_ car: [UInt8]) -> Int {
        Int(CARTestSupport.readLE(car, at: CARTestSupport.V2Field.indexOffset))
    }

    /// The fixture with the 0x0400 codec varint (`80 08`) inserted before its index.
    static func withCodec(_ car: [UInt8]) -> [UInt8] {
        Array(car[..<indexStart(car)]) + [0x80, 0x08] + Array(car[indexStart(car)...])
    }

    @Test func goCarV2IsVerified() throws {
        let car = try CARTestSupport.fixture("go-car-v2-indexsorted.hex")
        var options = CARVerifyOptions()
        options.checkComplete = true
        options.checkIndex = false
        let (summary, blocks) = try CARTestSupport.readAll(car, options: options)
        #expect(summary.header.version == 2)
        #expect(summary.header.roots.map(\.description) == ["QmfEoLyB5NndqeKieExd1rtJzTduQUPEV8TwAYcUiy3H5Z"])
        // `goCarV2Index` lists these section offsets (from the start of the file).
        #expect(blocks.map(\.2) == [108, 190, 325, 414, 455])
        #expect(summary.complete)
        let reader = try CARReader(source: CARMemorySource(car))
        // The header fields as the fixture's bytes hold them (read by the spec's layout, not by
        // CARReader): the payload right after the header, the index right after the payload.
        let field = { CARTestSupport.readLE(car, at: $0) }
        typealias V2 = CARTestSupport.V2Field
        #expect(field(V2.dataOffset) == UInt64(V2.headerEnd))
        #expect(field(V2.dataOffset) + field(V2.dataSize) == field(V2.indexOffset))
        #expect(Array(car[11..<27]) == [UInt8](repeating: 0, count: 16), "no characteristics set")
        #expect(reader.header.v2 == CARv2Header(
            characteristics: (0, 0), dataOffset: field(V2.dataOffset), dataSize: field(V2.dataSize), indexOffset: field(V2.indexOffset)))
        // Its codec-less index is refused, as go-car refuses it.
        let error = CARTestSupport.verifyError(car)
        #expect(error?.code == .unsupported)
        // With the codec varint the same index checks out against the payload.
        options.checkIndex = true
        let fixed = try CARTestSupport.readAll(Self.withCodec(car), options: options)
        #expect(fixed.summary.indexEntries == 5)
    }

    @Test func writerReproducesGoCarV2IndexSortedByteForByte() throws {
        let car = try CARTestSupport.fixture("go-car-v2-indexsorted.hex")
        var options = CARVerifyOptions()
        options.checkIndex = false
        let (summary, blocks) = try CARTestSupport.readAll(car, options: options)
        var writer = try CARWriter(output: CARMemoryOutput(), roots: summary.header.roots, format: .v2(index: .sorted))
        for (cid, bytes, _) in blocks { try writer.put(Block(cid: cid, bytes: bytes)) }
        let written = try writer.finish()
        #expect(writer.output.bytes == Self.withCodec(car))
        #expect(written.indexEntries == 5)
    }

    @Test func indexEntriesAreTheGoCarOnes() throws {
        let car = Self.withCodec(try CARTestSupport.fixture("go-car-v2-indexsorted.hex"))
        let reader = try CARReader(source: CARMemorySource(car))
        var sections: [UInt64: CID] = [:]
        try reader.forEachBlock { sections[$0.payloadOffset] = $0.cid }
        var entries: [CARIndexEntry] = []
        try reader.forEachIndexEntry { entries.append($0) }
        #expect(entries.count == 5)
        for entry in entries {
            #expect(entry.code == nil)
            let cid = try #require(sections[entry.offset])
            #expect(cid.multihash.digest == entry.digest)
        }
        #expect(entries.map(\.digest).sorted { $0.lexicographicallyPrecedes($1) } == entries.map(\.digest))
    }
}
