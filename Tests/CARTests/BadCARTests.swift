@testable import CAR
import CairnTestSupport
import Hashing
import Multiformats
import Testing
import UnixFS
import Blocks

/// Malformed and hostile CARs: each must fail with a CARError whose message is one line.
@Suite struct BadCARTests {
    /// A DFS export (root first) of a small file: truncation at a section boundary keeps a
    /// well-formed prefix, which only the completeness check can reject.
    static func exportedCAR(format: CARFormat = .v1) throws -> (root: CID, car: [UInt8], offsets: [UInt64]) {
        var importOptions = ImportOptions()
        importOptions.chunker = "size-20000"
        let (root, blocks) = try CARTestSupport.importBlocks(SplitMix64.bytes(seed: 8, count: 150_000), try importOptions.resolve())
        let store = Dictionary(blocks.map { ($0.cid, $0.bytes) }, uniquingKeysWith: { a, _ in a })
        var writer = try CARWriter(output: CARMemoryOutput(), roots: [root], format: format)
        try CARExport.exportDAG(roots: [root], into: &writer) { store[$0]! }
        try writer.finish()
        let (_, read) = try CARTestSupport.readAll(writer.output.bytes)
        return (root, writer.output.bytes, read.map(\.2))
    }

    func expectOneLine(_ error: CARError?, _ code: CARError.Code, _ context: String = "",
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(error?.code == code, "\(context): got \(String(describing: error))", sourceLocation: sourceLocation)
        if let error { #expect(!error.description.contains("\n"), sourceLocation: sourceLocation) }
    }

    @Test func truncatedAtEverySectionBoundary() throws {
        let (_, car, offsets) = try Self.exportedCAR()
        var complete = CARVerifyOptions()
        complete.checkComplete = true
        #expect(CARTestSupport.verifyError(car, complete) == nil)
        // offsets[0] is right after the header: no blocks, so the root is missing.
        expectOneLine(CARTestSupport.verifyError(Array(car[..<Int(offsets[0])]), complete), .missingRoot, "cut after header")
        for offset in offsets.dropFirst() {
            let cut = Array(car[..<Int(offset)])
            expectOneLine(CARTestSupport.verifyError(cut, complete), .incompleteDAG, "cut at \(offset)")
        }
    }

    @Test func truncatedAtRandomOffsets() throws {
        let (_, car, offsets) = try Self.exportedCAR()
        let boundaries = Set(offsets.map(Int.init))
        var rng = SplitMix64(seed: 77)
        var cuts = Array(0..<min(car.count, 120))        // every cut inside the header region
        for _ in 0..<200 { cuts.append(Int(rng.next() % UInt64(car.count))) }
        for cut in cuts where !boundaries.contains(cut) {
            let error = CARTestSupport.verifyError(Array(car[..<cut]))
            expectOneLine(error, .truncated, "cut at \(cut)")
        }
    }

    @Test func v2TruncatedAnywhereIsRejected() throws {
        let (_, car, _) = try Self.exportedCAR(format: .v2(index: .multihashSorted))
        var rng = SplitMix64(seed: 78)
        for _ in 0..<150 {
            let cut = Int(rng.next() % UInt64(car.count))
            let error = CARTestSupport.verifyError(Array(car[..<cut]))
            #expect(error != nil, "cut at \(cut) of \(car.count)")
            if let error { #expect(!error.description.contains("\n")) }
        }
    }

    @Test func flippedByteInEveryBlock() throws {
        let (_, car, offsets) = try Self.exportedCAR()
        let (_, blocks) = try CARTestSupport.readAll(car)
        for (index, offset) in offsets.enumerated() {
            var bad = car
            // The last byte of the block's data.
            let end = index + 1 < offsets.count ? Int(offsets[index + 1]) : car.count
            bad[end - 1] ^= 0x40
            let error = CARTestSupport.verifyError(bad)
            expectOneLine(error, .hashMismatch, "block at \(offset)")
            #expect(error?.offset == offset)
            #expect(error?.message.contains(blocks[index].0.description) == true)
        }
    }

    @Test func wrongRoot() throws {
        let (_, car, offsets) = try Self.exportedCAR()
        let other = CARTestSupport.rawCID(Array("not in this CAR".utf8))
        var writer = try CARWriter(output: CARMemoryOutput(), roots: [other])
        let (_, blocks) = try CARTestSupport.readAll(car)
        for (cid, bytes, _) in blocks { try writer.put(Block(cid: cid, bytes: bytes)) }
        try writer.finish()
        let error = CARTestSupport.verifyError(writer.output.bytes)
        expectOneLine(error, .missingRoot)
        #expect(error?.message.contains(other.description) == true)
        // No roots at all.
        let empty = try CARWriter(output: CARMemoryOutput(), roots: [])
        expectOneLine(CARTestSupport.verifyError(empty.output.bytes), .missingRoot)
        _ = offsets
    }

    /// A CARv1 header for `roots` followed by `tail`.
    func car(_ tail: [UInt8], roots: [CID] = [CARTestSupport.rawCID([1])]) -> [UInt8] {
        CARv1Header(roots: roots).framed + tail
    }

    @Test func badSectionLengthVarints() throws {
        let tooLong: [UInt8] = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]
        expectOneLine(CARTestSupport.verifyError(car(tooLong + [UInt8](repeating: 0, count: 40))), .invalidSection, "10-byte varint")
        let nonMinimal: [UInt8] = [0x85, 0x00]
        expectOneLine(CARTestSupport.verifyError(car(nonMinimal + [UInt8](repeating: 0, count: 40))), .invalidSection, "non-minimal varint")
        expectOneLine(CARTestSupport.verifyError(car([0x00])), .invalidSection, "zero-length section")
        expectOneLine(CARTestSupport.verifyError(car([0x85])), .truncated, "varint cut")
        // The header length varint, too.
        expectOneLine(CARTestSupport.verifyError([0xe5, 0x00] + Array(CARv1Header(roots: []).encoded)), .invalidHeader, "non-minimal header length")
    }

    @Test func limits() throws {
        // Section over 8 MiB: rejected from its length alone.
        let over = Varint.encode(UInt64(8 << 20) + 1)
        expectOneLine(CARTestSupport.verifyError(car(over + [0x01, 0x55])), .limitExceeded, "section > 8 MiB")
        // Header over 32 MiB.
        expectOneLine(CARTestSupport.verifyError(Varint.encode(UInt64(32 << 20) + 1) + [0xa2]), .limitExceeded, "header > 32 MiB")
        // A 2 MiB + 1 block: refused unless allowBigBlock.
        let big = SplitMix64.bytes(seed: 1, count: (2 << 20) + 1)
        let cid = CARTestSupport.rawCID(big)
        var writer = try CARWriter(output: CARMemoryOutput(), roots: [cid])
        try writer.put(Block(cid: cid, bytes: big))
        try writer.finish()
        expectOneLine(CARTestSupport.verifyError(writer.output.bytes), .limitExceeded, "block > 2 MiB")
        var allow = CARVerifyOptions()
        allow.read.allowBigBlock = true
        #expect(CARTestSupport.verifyError(writer.output.bytes, allow) == nil)
    }

    @Test func badHeaders() throws {
        func framed(_ cbor: [UInt8]) -> [UInt8] { Varint.encode(UInt64(cbor.count)) + cbor }
        let version3: [UInt8] = [0xa2, 0x65] + Array("roots".utf8) + [0x80, 0x67] + Array("version".utf8) + [0x03]
        expectOneLine(CARTestSupport.verifyError(framed(version3)), .invalidHeader, "version 3")
        let extraKey: [UInt8] = [0xa3, 0x65] + Array("roots".utf8) + [0x80, 0x67] + Array("version".utf8) + [0x01, 0x61, 0x78, 0x01]
        expectOneLine(CARTestSupport.verifyError(framed(extraKey)), .invalidHeader, "unknown key")
        expectOneLine(CARTestSupport.verifyError(framed([0x82, 0x01, 0x02])), .invalidHeader, "an array")
        let noVersion: [UInt8] = [0xa1, 0x65] + Array("roots".utf8) + [0x80]
        expectOneLine(CARTestSupport.verifyError(framed(noVersion)), .invalidHeader, "no version")
        expectOneLine(CARTestSupport.verifyError([]), .truncated, "empty input")
        // A root CID missing its 0x00 prefix.
        var header = CARv1Header(roots: [CARTestSupport.rawCID([1])]).encoded
        let prefixAt = 1 + 6 + 1 + 2 + 2   // map, "roots", array, tag, bytes head
        #expect(header[prefixAt] == 0)
        header[prefixAt] = 1
        expectOneLine(CARTestSupport.verifyError(framed(header)), .invalidHeader, "root without 0x00")
        // The pragma with a different length prefix.
        expectOneLine(CARTestSupport.verifyError(framed([0xa2, 0x67] + Array("version".utf8) + [0x02, 0x65] + Array("roots".utf8) + [0x80])),
                      .invalidHeader, "v2 pragma with roots")
    }

    @Test func unverifiableAndWrongIdentityBlocks() throws {
        // sha1 is a valid multihash Cairn does not compute: refused, not trusted.
        let sha1 = CID.v1(codec: .raw, multihash: try Multihash(code: .sha1, digest: [UInt8](repeating: 7, count: 20)))
        var writer = try CARWriter(output: CARMemoryOutput(), roots: [sha1])
        try writer.put(Block(cid: sha1, bytes: [1, 2, 3]))
        try writer.finish()
        expectOneLine(CARTestSupport.verifyError(writer.output.bytes), .unsupported, "sha1")
        // Identity CID whose digest is not the data.
        let identity = CID.v1(codec: .raw, multihash: try Multihash(code: .identity, digest: Array("abc".utf8)))
        var second = try CARWriter(output: CARMemoryOutput(), roots: [identity])
        try second.put(Block(cid: identity, bytes: Array("abd".utf8)))
        try second.finish()
        expectOneLine(CARTestSupport.verifyError(second.output.bytes), .hashMismatch, "identity")
    }

    // MARK: CARv2

    /// Our CARv2 of the exported DAG and its parsed header.
    func v2() throws -> (car: [UInt8], header: CARv2Header) {
        let (_, car, _) = try Self.exportedCAR(format: .v2(index: .multihashSorted))
        let header = try #require(CARReader(source: CARMemorySource(car)).header.v2)
        return (car, header)
    }

    /// Overwrites the little-endian uint64 at `offset` (header fields: `CARTestSupport.V2Field`).
    func patchLE(_ car: inout [UInt8], at offset: Int, _ value: UInt64) {
        for i in 0..<8 { car[offset + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i)) }
    }

    @Test func v2HeaderOffsetsAreChecked() throws {
        let (car, header) = try v2()
        var dataPastEOF = car
        patchLE(&dataPastEOF, at: CARTestSupport.V2Field.dataSize, header.dataSize + UInt64(car.count))
        expectOneLine(CARTestSupport.verifyError(dataPastEOF), .invalidHeader, "data size past EOF")
        var insideHeader = car
        patchLE(&insideHeader, at: CARTestSupport.V2Field.dataOffset, 40)
        expectOneLine(CARTestSupport.verifyError(insideHeader), .invalidHeader, "data offset inside the header")
        var indexPastEOF = car
        patchLE(&indexPastEOF, at: CARTestSupport.V2Field.indexOffset, UInt64(car.count) + 5)
        expectOneLine(CARTestSupport.verifyError(indexPastEOF), .invalidHeader, "index offset past EOF")
        var indexInData = car
        patchLE(&indexInData, at: CARTestSupport.V2Field.indexOffset, header.dataOffset + 3)
        expectOneLine(CARTestSupport.verifyError(indexInData), .invalidHeader, "index offset inside the data")
        // Data size shorter than the payload: the last section straddles the declared end.
        var shortData = car
        patchLE(&shortData, at: CARTestSupport.V2Field.dataSize, header.dataSize - 3)
        expectOneLine(CARTestSupport.verifyError(shortData), .truncated, "data size cuts a section")
        // No index declared, but bytes follow the payload.
        var trailing = car
        patchLE(&trailing, at: CARTestSupport.V2Field.indexOffset, 0)
        expectOneLine(CARTestSupport.verifyError(trailing), .invalidHeader, "trailing bytes without an index")
    }

    @Test func v2IndexPointingPastTheEnd() throws {
        let (car, header) = try v2()
        // The last 8 bytes are the offset of the last entry of the last bucket.
        var bad = car
        patchLE(&bad, at: car.count - 8, header.dataSize + 100)
        expectOneLine(CARTestSupport.verifyError(bad), .invalidIndex, "entry past the end")
        var misplaced = car
        patchLE(&misplaced, at: car.count - 8, 1)
        expectOneLine(CARTestSupport.verifyError(misplaced), .invalidIndex, "entry not at a section")
        // Without the index check, the data itself is fine.
        var skip = CARVerifyOptions()
        skip.checkIndex = false
        #expect(CARTestSupport.verifyError(bad, skip) == nil)
    }

    @Test func v2IndexStructure() throws {
        let (car, header) = try v2()
        let indexStart = Int(header.indexOffset)
        // Unknown index codec.
        var unknown = Array(car[..<indexStart])
        unknown += Varint.encode(0x0402) + [0, 0, 0, 0]
        expectOneLine(CARTestSupport.verifyError(unknown), .unsupported, "index codec 0x402")
        // Truncated index.
        // (the bucket's declared size no longer fits in the file)
        expectOneLine(CARTestSupport.verifyError(Array(car.dropLast(3))), .invalidIndex, "index cut")
        // Trailing garbage after the index.
        expectOneLine(CARTestSupport.verifyError(car + [0]), .invalidIndex, "bytes after the index")
        // An index that leaves one block out.
        let (_, blocks) = try CARTestSupport.readAll(car)
        let reader = try CARReader(source: CARMemorySource(car))
        var entries: [(Multihash, UInt64)] = []
        try reader.forEachBlock { entries.append(($0.cid.multihash, $0.payloadOffset)) }
        var partial = Array(car[..<indexStart]) + Varint.encode(0x0401)
        CARIndexEncoding.appendBuckets(Array(entries.dropFirst()), multihashCodes: true, to: &partial)
        let error = CARTestSupport.verifyError(partial)
        expectOneLine(error, .invalidIndex, "a block missing from the index")
        #expect(error?.message.contains("1 of \(blocks.count)") == true)
        // Bucket size not a multiple of the width.
        var odd = Array(car[..<indexStart]) + Varint.encode(0x0400) + [1, 0, 0, 0, 40, 0, 0, 0, 41, 0, 0, 0, 0, 0, 0, 0]
        odd += [UInt8](repeating: 0, count: 41)
        expectOneLine(CARTestSupport.verifyError(odd), .invalidIndex, "bucket size")
    }
}
