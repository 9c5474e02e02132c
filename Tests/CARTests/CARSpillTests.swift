@testable import CAR
import CairnTestSupport
import Foundation
import Hashing
import Multiformats
import Testing

/// Issue 15, item 14: `car verify` keeps at most `keysInMemory` block keys in memory and spills
/// the rest to sorted runs on disk (a Bloom filter in front); results are the same either way.
@Suite struct CARSpillTests {
    static func spilling(_ options: CARVerifyOptions = CARVerifyOptions(), keys: Int = 1) -> CARVerifyOptions {
        var options = options
        options.keysInMemory = keys
        return options
    }

    static func keys(seed: UInt64, count: Int) -> [CIDKey] {
        (0..<count).map { CIDKey(CARTestSupport.rawCID(SplitMix64.bytes(seed: seed &+ UInt64($0), count: 8))) }
    }

    @Test func theSetAnswersAlikeInMemoryAndOnDisk() throws {
        let set = SpillingKeySet(memoryLimit: 3)
        let inside = Self.keys(seed: 100, count: 50), outside = Self.keys(seed: 1000, count: 50)
        for key in inside { #expect(try set.insert(key)) }
        #expect(set.hasSpilled)
        #expect(set.count == 50)
        for key in inside { #expect(try !set.insert(key)) }
        #expect(try inside.allSatisfy { try set.contains($0) })
        let lookups = set.diskLookups
        // 48 keys in 2^24 bits, 4 probes: the filter keeps every outside key off the disk.
        #expect(try outside.allSatisfy { try !set.contains($0) })
        #expect(set.diskLookups == lookups)
        #expect(set.count == 50)
    }

    @Test func verifyCountsAlikeWithAndWithoutSpilling() throws {
        let (_, car, offsets) = try BadCARTests.exportedCAR()
        // The sections twice over: every block is a duplicate once.
        let doubled = car + car[Int(offsets[0])...]
        var complete = CARVerifyOptions()
        complete.checkComplete = true
        let plain = try CARVerifier.verify(CARMemorySource(doubled), options: complete)
        let spilled = try CARVerifier.verify(CARMemorySource(doubled), options: Self.spilling(complete))
        #expect(plain.blockCount == 2 * offsets.count)
        #expect(plain.distinctBlocks == offsets.count)
        #expect(spilled == plain)
    }

    @Test func aMissingBlockIsNamedAlikeWithAndWithoutSpilling() throws {
        let (_, car, offsets) = try BadCARTests.exportedCAR()
        let (_, blocks) = try CARTestSupport.readAll(car)
        var complete = CARVerifyOptions()
        complete.checkComplete = true
        for (i, offset) in offsets.enumerated().dropFirst() {
            // A DFS export: cutting at section i loses block i first in DFS order.
            let cut = Array(car[..<Int(offset)])
            let plain = CARTestSupport.verifyError(cut, complete)
            let spilled = CARTestSupport.verifyError(cut, Self.spilling(complete))
            #expect(plain?.code == .incompleteDAG)
            #expect(spilled?.message == plain?.message)
            #expect(spilled?.message.contains("block \(blocks[i].0) is missing") == true, "\(String(describing: spilled))")
        }
    }

    @Test func aHeaderOfManyRootsVerifiesWhileSpilling() throws {
        let directory = try makeTemporaryDirectory("car-spill-roots")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("roots.car").path
        try CARMemoryBoundTests.manyRootsCAR(count: 70_000, to: path)   // ≥ 2^16: the helper writes a 4-byte array head
        let summary = try CARVerifier.verify(path: path, options: Self.spilling(keys: 2))
        #expect(summary.header.rootList.count == 70_000)
        #expect(summary.blockCount == 1)
    }
}
