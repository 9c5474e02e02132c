import CairnTestSupport
import Foundation
import Multiformats
import Testing
@testable import UnixFS
@testable import Blocks

import CairnSystem

/// A file truncated while it is imported (memory-mapped) must give an error, not a SIGBUS.
@Suite struct TruncationTests {
    /// Truncates the file as soon as the first block arrives.
    struct TruncatingSink: BlockSink {
        let path: String
        var truncated = false
        var wantsBytes: Bool { true }

        mutating func put(_ cid: CID, _ bytes: BlockBytes) throws {
            if !truncated {
                truncated = true
                #expect(truncate(path, 1000) == 0)
            }
        }
    }

    @Test func truncatedWhileMappedIsAnErrorNotACrash() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-truncate-\(UUID().uuidString)").path
        try Data(SplitMix64.bytes(seed: 61, count: 8 << 20)).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var importer = try FileImporter(parameters: .kuboDefault, threads: 1)
        importer.memoryMapFiles = true
        importer.batchBytes = 256 << 10
        var sink = TruncatingSink(path: path)
        #expect(throws: ImportError.self) {
            _ = try importer.importFile(atPath: path, into: &sink)
        }
        #expect(sink.truncated)
    }

    /// Content-defined chunkers read files instead of mapping them; a file that shrinks while it
    /// is read is an error too, with one thread or with the read-ahead thread.
    @Test(arguments: [1, 2])
    func truncatedWhileReadIsAnError(threads: Int) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-truncate-\(UUID().uuidString)").path
        try Data(SplitMix64.bytes(seed: 62, count: 8 << 20)).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var importer = try FileImporter(parameters: ImportOptions(kuboArguments: ["--chunker=buzhash"]).resolve(), threads: threads)
        importer.batchBytes = 256 << 10
        var sink = TruncatingSink(path: path)
        #expect(throws: ImportError.self) {
            _ = try importer.importFile(atPath: path, into: &sink)
        }
        #expect(sink.truncated)
    }
}
