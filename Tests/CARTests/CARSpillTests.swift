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

    @Test func aKeyFoundOnDiskIsSearchedThereOnceWhenAskedAgain() throws {
        let set = SpillingKeySet(memoryLimit: 3)
        let keys = Self.keys(seed: 200, count: 30)
        for (index, key) in keys.enumerated() { #expect(try set.insert(key, value: UInt64(index + 1))) }
        let spilled = keys[0]  // in the first run
        let before = set.diskLookups
        for _ in 0..<1000 {
            #expect(try set.value(for: spilled) == 1)
            #expect(try !set.insert(spilled, value: 99))
        }
        #expect(set.diskLookups == before + 1)
        #expect(try keys.enumerated().allSatisfy { try set.value(for: $0.element) == UInt64($0.offset + 1) })
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

    /// The identity roots `CARMemoryBoundTests.manyRootsCAR` writes, from their bytes.
    static func identityRoots(_ count: Int) throws -> [CID] {
        try (0..<count).map { i in
            try ([0x01, 0x55, 0x00, 0x04] + withUnsafeBytes(of: UInt32(i).bigEndian, Array.init)).withUnsafeBytes { try CID(bytes: $0) }
        }
    }

    /// A read buffer of 64 KiB (the smallest), so that a header of 70 000 roots (840 KB; the
    /// helper writes a 4-byte array head, canonical from 2^16) is read through it in pieces,
    /// and at most 100 bytes of roots in memory.
    static var smallBuffers: CARVerifyOptions {
        var options = CARVerifyOptions()
        options.read.maxSectionBytes = 1024
        options.read.bufferBytes = 0
        options.read.rootsInMemory = 100
        return options
    }

    @Test func rootsSpillToDiskAndReadBackInOrder() throws {
        let directory = try makeTemporaryDirectory("car-spill-roots")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("roots.car").path
        try CARMemoryBoundTests.manyRootsCAR(count: 70_000, to: path)
        let expected = try Self.identityRoots(70_000)
        let spilled = try CARVerifier.verify(path: path, options: Self.smallBuffers)
        #expect(spilled.header.rootList.hasSpilled)
        #expect(spilled.header.rootList.count == 70_000)
        var read: [CID] = []
        try spilled.header.rootList.forEachRoot { read.append($0) }
        #expect(read == expected)
        #expect(spilled.header.roots == expected)
        let plain = try CARVerifier.verify(path: path)
        #expect(!plain.header.rootList.hasSpilled)
        #expect(plain.header.roots == expected)
        #expect(plain == spilled)
    }

    @Test func aHeaderLargerThanTheBufferReportsTruncationAndBadRootsAtTheirOffset() throws {
        let directory = try makeTemporaryDirectory("car-big-header")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("roots.car").path
        try CARMemoryBoundTests.manyRootsCAR(count: 70_000, to: path)
        let car = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        // 3-byte length varint, map head and "roots" (7 bytes), 5-byte array head, then 12 bytes a root.
        let rootAt = { (i: Int) in 3 + 7 + 5 + 12 * i }
        for cut in [rootAt(10), rootAt(40_000) + 5, car.count - 20] {
            let error = CARTestSupport.verifyError(Array(car[..<cut]), Self.smallBuffers)
            #expect(error?.code == .truncated, "cut at \(cut): \(String(describing: error))")
        }
        var bad = car
        bad[rootAt(60_000) + 3] = 1                       // the 0x00 multibase prefix of root 60 000
        let error = CARTestSupport.verifyError(bad, Self.smallBuffers)
        #expect(error?.code == .invalidHeader)
        // Reported at the root's byte string (after its 2-byte tag), as with the header whole.
        #expect(error?.offset == UInt64(rootAt(60_000) + 2), "\(String(describing: error))")
        #expect(CARTestSupport.verifyError(bad)?.offset == UInt64(rootAt(60_000) + 2))
    }
}
