import CairnTestSupport
import Chunking
import Foundation
import Hashing
import Multiformats
import Testing
@testable import UnixFS
@testable import Blocks

/// A large regular file imported with a content-defined chunker and several threads is cut by
/// the parallel chunker (spec/unixfs.md §6, spec/chunking.md "Parallel chunking"): same CIDs as
/// one thread, and for rabin and buzhash the CIDs Kubo gave (shared/vectors/cids.tsv).
@Suite struct ParallelChunkingImportTests {
    static let input = "sm1_45613057"

    static func kuboRoot(_ flags: String) throws -> String? {
        try Vectors.tsv("cids.tsv").first { $0["input"] == input && $0["flags"] == flags }?["root_cid"]
    }

    @Test(arguments: ["--chunker=rabin", "--chunker=buzhash", "--chunker=fastcdc", "--chunker=fastcdc-16384-65536-262144-2"])
    func sameRootWithOneAndTwoThreads(flags: String) throws {
        let bytes = try #require(Vectors.input(named: Self.input))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-parallel-\(UUID().uuidString).bin").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let parameters = try ImportOptions(kuboArguments: [flags]).resolve()

        var roots: [String] = []
        for threads in [1, 2] {
            var sink = DiscardingSink()
            let result = try FileImporter(parameters: parameters, threads: threads).importFile(atPath: path, into: &sink)
            #expect(result.fileSize == UInt64(bytes.count))
            roots.append(result.root.description)
        }
        #expect(roots[0] == roots[1], "\(flags): threads 1 and 2 differ")
        if let kubo = try Self.kuboRoot(flags) { #expect(roots[1] == kubo, "\(flags): Kubo's root") }
    }

    /// The producer the two-thread import uses really cuts in several segments and meets them.
    @Test func producerResynchronises() throws {
        let bytes = try #require(Vectors.input(named: Self.input))
        let finder = Chunker(try ChunkerSpec(parsing: "buzhash"))
        let serial = finder.chunkLengths(of: bytes.withUnsafeBytes { $0 })
        bytes.withUnsafeBytes { raw in
            var producer = RegionProducer(raw, finder: finder, release: false, parallelThreads: 2)
            #expect(producer.chunksInParallel)
            let batch = LeafBatch(capacity: 64)
            var lengths: [Int] = []
            while true {
                try? producer.fill(batch, limits: BatchLimits(bytes: 8 << 20, leaves: 64), framing: nil)
                if batch.count == 0 { break }
                for i in 0..<batch.count { lengths.append(batch.inputs[i].body.count) }
            }
            #expect(lengths == serial)
            #expect(producer.statistics.segments >= 2)
            #expect(producer.statistics.resynchronised >= 1)
        }
    }
}
