@testable import CAR
import CairnTestSupport
import Foundation
import Hashing
import Multiformats
import Testing
import UnixFS
import Blocks

@Suite struct RoundTripTests {
    static let formats: [CARFormat] = [.v1, .v2(index: .none), .v2(index: .sorted), .v2(index: .multihashSorted)]

    @Test(arguments: formats)
    func importSinkRoundTrip(format: CARFormat) throws {
        let data = SplitMix64.bytes(seed: 11, count: 1_300_000)
        let parameters = try ImportOptions().resolve()
        let (expectedRoot, expectedBlocks) = try CARTestSupport.importBlocks(data, parameters)
        let (root, car) = try CARTestSupport.carFromImport(data, parameters, format: format)
        #expect(root == expectedRoot)
        var options = CARVerifyOptions()
        options.checkComplete = true
        let (summary, blocks) = try CARTestSupport.readAll(car, options: options)
        #expect(summary.header.roots == [root])
        #expect(blocks.map(\.0) == expectedBlocks.map(\.cid), "pipeline order, each block once")
        #expect(blocks.map(\.1) == expectedBlocks.map(\.bytes))
        #expect(blocks.last?.0 == root, "the root comes last in pipeline order")
        if case .v2(let index) = format {
            #expect(summary.header.version == 2)
            #expect(summary.indexEntries == (index == .none ? nil : blocks.count))
        } else {
            #expect(summary.header.version == 1)
        }
    }

    @Test func cidV1BlakeAndTinyBufferRefills() throws {
        // Small sections limit => small buffer => many refills and sections split across reads.
        var importOptions = ImportOptions()
        importOptions.cidVersion = 1
        importOptions.hash = "blake3"
        importOptions.chunker = "size-1000"
        let parameters = try importOptions.resolve()
        let data = SplitMix64.bytes(seed: 3, count: 200_000)
        let (root, car) = try CARTestSupport.carFromImport(data, parameters, format: .v2(index: .multihashSorted))
        var options = CARVerifyOptions()
        options.checkComplete = true
        options.read.maxSectionBytes = 16 << 10
        options.read.bufferBytes = 0   // raised to the minimum
        let (summary, blocks) = try CARTestSupport.readAll(car, options: options)
        #expect(summary.header.roots == [root])
        let expected = try CARTestSupport.importBlocks(data, parameters).blocks
        #expect(blocks.map(\.0) == expected.map(\.cid))
        #expect(summary.indexEntries == expected.count)
    }

    @Test func duplicateLeavesAreWrittenOnce() throws {
        let zeros = [UInt8](repeating: 0, count: 2_000_000)
        let (root, car) = try CARTestSupport.carFromImport(zeros)
        var options = CARVerifyOptions()
        options.checkComplete = true
        let (summary, blocks) = try CARTestSupport.readAll(car, options: options)
        #expect(Set(blocks.map(\.0)).count == blocks.count)
        #expect(summary.distinctBlocks == blocks.count)
        #expect(summary.header.roots == [root])
    }

    @Test(arguments: [false, true])
    func identityRootShiftsThePayload(v2: Bool) throws {
        // With --inline, a tiny file's root is an identity CID: longer or shorter than the
        // placeholder, so the header is rewritten and the payload shifted.
        var options = ImportOptions()
        options.inline = true
        options.cidVersion = 1
        let parameters = try options.resolve()
        let data = Array("hello inline world".utf8)
        let (root, car) = try CARTestSupport.carFromImport(data, parameters, format: v2 ? .v2(index: .multihashSorted) : .v1)
        #expect(root.multihash.code == .identity)
        let (summary, blocks) = try CARTestSupport.readAll(car)
        #expect(summary.header.roots == [root])
        #expect(blocks.isEmpty, "identity blocks are not written")
    }

    @Test func fileOutputPatchesAndShiftsInPlace() throws {
        let dir = try makeTemporaryDirectory("car-shift")
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SplitMix64(seed: 5)
        for trial in 0..<6 {
            let path = dir.appendingPathComponent("f\(trial)").path
            let output = try CARFileOutput(path: path)
            var model = [UInt8]()
            let size = Int(rng.next() % 3_000_000) + 100
            let content = SplitMix64.bytes(seed: UInt64(trial), count: size)
            // Several writes, some bigger than the buffer.
            var at = 0
            while at < size {
                let n = min(size - at, Int(rng.next() % 1_500_000) + 1)
                try content[at..<(at + n)].withUnsafeBytes { try output.write($0) }
                model.append(contentsOf: content[at..<(at + n)])
                at += n
            }
            let lower = Int(rng.next() % 50)
            let upper = lower + Int(rng.next() % 40)
            let replacement = [UInt8](repeating: UInt8(trial), count: Int(rng.next() % 80))
            try replacement.withUnsafeBytes { try output.replace(UInt64(lower)..<UInt64(upper), with: $0) }
            model.replaceSubrange(lower..<upper, with: replacement)
            try [UInt8](repeating: 0xEE, count: 7).withUnsafeBytes { try output.write($0) }
            model.append(contentsOf: repeatElement(0xEE, count: 7))
            try output.close()
            let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(written == model, "trial \(trial): replace \(lower)..<\(upper) with \(replacement.count) bytes")
        }
    }

    @Test func fileRoundTripThroughPaths() throws {
        let dir = try makeTemporaryDirectory("car-file")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = SplitMix64.bytes(seed: 21, count: 700_000)
        let parameters = ImportParameters.kuboDefault
        let path = dir.appendingPathComponent("out.car").path
        let output = try CARFileOutput(path: path)
        var sink = try CARBlockSink(output: output, format: .v2(index: .multihashSorted),
                                    placeholderRoot: parameters.placeholderRoot)
        let result = try FileImporter(parameters: parameters, threads: 1).importBytes(data, into: &sink)
        let written = try sink.finish(root: result.root)
        try output.close()
        var options = CARVerifyOptions()
        options.checkComplete = true
        let summary = try CARVerifier.verify(path: path, options: options)
        #expect(summary.header.roots == [result.root])
        #expect(summary.blockCount == written.blockCount)
        #expect(summary.indexEntries == written.indexEntries)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64
        #expect(size == written.totalBytes)
    }

    @Test func cancellationStopsTheReader() async throws {
        let (_, car) = try CARTestSupport.carFromImport(SplitMix64.bytes(seed: 1, count: 600_000))
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try CARVerifier.verify(CARMemorySource(car))
        }
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }
}

@Suite struct ExportTests {
    /// Pre-order DFS written independently of the exporter, recursively.
    func preorder(_ cid: CID, _ blocks: [CID: [UInt8]], _ seen: inout Set<CID>, _ out: inout [CID]) throws {
        guard seen.insert(cid).inserted else { return }
        out.append(cid)
        if cid.codec == .dagPB {
            for link in try PBNode(decoding: blocks[cid]!).links { try preorder(link.hash, blocks, &seen, &out) }
        }
    }

    @Test(arguments: [false, true], [SpillingKeySet.defaultMemoryLimit, 1])
    func exportIsDepthFirstWithoutDuplicates(trickle: Bool, keysInMemory: Int) throws {
        var importOptions = ImportOptions()
        importOptions.chunker = "size-4096"
        importOptions.trickle = trickle
        importOptions.maxFileLinks = 5
        let parameters = try importOptions.resolve()
        // Repeated content: some leaves (and subtrees) occur several times.
        var data = SplitMix64.bytes(seed: 9, count: 60_000)
        data += data
        let (root, blocks) = try CARTestSupport.importBlocks(data, parameters)
        let store = Dictionary(blocks.map { ($0.cid, $0.bytes) }, uniquingKeysWith: { a, _ in a })
        var writer = try CARWriter(output: CARMemoryOutput(), roots: [root])
        try CARExport.exportDAG(roots: [root], into: &writer, keysInMemory: keysInMemory) { cid in
            guard let bytes = store[cid] else { throw CARError(.incompleteDAG, "no \(cid)") }
            return bytes
        }
        try writer.finish()
        var options = CARVerifyOptions()
        options.checkComplete = true
        let (_, read) = try CARTestSupport.readAll(writer.output.bytes, options: options)
        var seen = Set<CID>(), expected = [CID]()
        try preorder(root, store, &seen, &expected)
        #expect(read.map(\.0) == expected)
        #expect(read.count == store.count)
        // The borrowing walk (batched verification) writes the same CAR.
        let kept = store.mapValues { bytes -> UnsafeMutableRawBufferPointer in
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
            copy.copyBytes(from: bytes)
            return copy
        }
        defer { kept.values.forEach { $0.deallocate() } }
        var borrowing = try CARWriter(output: CARMemoryOutput(), roots: [root])
        try CARExport.exportDAG(roots: [root], into: &borrowing, batchBytes: 20_000, keysInMemory: keysInMemory) { cid in
            guard let bytes = kept[cid], let count = store[cid]?.count else { throw CARError(.incompleteDAG, "no \(cid)") }
            return UnsafeRawBufferPointer(rebasing: bytes[0..<count])
        }
        try borrowing.finish()
        #expect(borrowing.output.bytes == writer.output.bytes)
        // Batches cut at one region of the address space: the same CAR again.
        var cut = try CARWriter(output: CARMemoryOutput(), roots: [root])
        try CARExport.exportDAG(roots: [root], into: &cut, keysInMemory: keysInMemory, batchRegions: 1) { cid in
            guard let bytes = kept[cid], let count = store[cid]?.count else { throw CARError(.incompleteDAG, "no \(cid)") }
            return UnsafeRawBufferPointer(rebasing: bytes[0..<count])
        }
        try cut.finish()
        #expect(cut.output.bytes == writer.output.bytes)
    }

    @Test func exportRejectsATamperedBlock() throws {
        let (root, blocks) = try CARTestSupport.importBlocks(SplitMix64.bytes(seed: 2, count: 600_000))
        var store = Dictionary(blocks.map { ($0.cid, $0.bytes) }, uniquingKeysWith: { a, _ in a })
        let victim = blocks[1].cid
        store[victim]![10] ^= 1
        var writer = try CARWriter(output: CARMemoryOutput(), roots: [root])
        let error = CARTestSupport.carError {
            try CARExport.exportDAG(roots: [root], into: &writer) { store[$0]! }
        }
        #expect(error?.code == .hashMismatch)
        #expect(error?.description.contains(victim.description) == true)
    }

    @Test func importHandsEveryVerifiedBlockToThePutter() throws {
        let data = SplitMix64.bytes(seed: 4, count: 900_000)
        let (root, car) = try CARTestSupport.carFromImport(data)
        var stored: [CID: [UInt8]] = [:]
        let summary = try CARExport.importCAR(from: CARMemorySource(car)) { cid, bytes in stored[cid] = Array(bytes) }
        #expect(summary.header.roots == [root])
        let expected = try CARTestSupport.importBlocks(data).blocks
        #expect(stored.count == expected.count)
        for block in expected { #expect(stored[block.cid] == block.bytes) }
    }
}
