import Blocks
import Foundation
import Hashing
import Multiformats
import Testing
@testable import BlockStore

/// `verify` hashes in parallel batches; the report must not depend on the batching.
@Suite struct ParallelVerifyTests {
    @Test(arguments: [1, 1_000, 64 << 20])
    func batchedVerifyFindsExactlyTheCorruptBlocksInRowOrder(batchBytes: Int) throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        var blocks = try randomBlocks(seed: 21, count: 60)
        blocks += try randomBlocks(seed: 22, count: 6, size: 300).map { try rawBlock($0.bytes, hash: .blake3) }
        blocks += try randomBlocks(seed: 23, count: 6, size: 50).map { try rawBlock($0.bytes, hash: .sha2_512) }
        blocks += try randomBlocks(seed: 24, count: 1, size: 5_000)
        try temp.store.putMany(blocks)
        let corrupt = [3, 40, 62, 70, 72].map { blocks[$0].cid }
        for cid in corrupt {
            let location = try #require(try temp.store.location(of: cid))
            try flipByte(path: temp.path + "/packs/" + PackFormat.fileName(location.pack), offset: location.offset + 7)
        }
        let store = try temp.reopen()
        var progressCalls = 0
        let report = try store.verify(batchBytes: batchBytes, threads: 2) { _ in progressCalls += 1 }
        #expect(report.checkedBlocks == blocks.count)
        #expect(report.checkedBytes == Int64(blocks.reduce(0) { $0 + $1.bytes.count }))
        #expect(report.packProblems.isEmpty)
        let byLocation = try corrupt.sorted { a, b in
            try #require(try store.location(of: a)).offset < (try #require(try store.location(of: b))).offset
        }
        #expect(report.problems.map(\.cid) == byLocation)
        #expect(report.problems.allSatisfy { $0.reason == "its bytes do not hash to its CID" })
        #expect(progressCalls == 0)  // fewer than 4096 blocks
    }
}
