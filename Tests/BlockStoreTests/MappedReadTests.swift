import CairnTestSupport
import Blocks
import Foundation
import Multiformats
import Testing
@testable import BlockStore

@Suite("Block store: mapped, unverified reads")
struct MappedReadTests {
    @Test func mappedBytesEqualVerifiedGetsAcrossPacksAndLaterAppends() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let first = try randomBlocks(seed: 71, count: 40, size: 5_000)
        try temp.store.putMany(first)
        // Map the pack, then append more: the later blocks need a longer mapping.
        let early = try #require(try temp.store.unverifiedBytes(of: first[0].cid))
        let second = try randomBlocks(seed: 72, count: 40, size: 7_000)
        try temp.store.putMany(second)
        for block in first + second {
            let bytes = try #require(try temp.store.unverifiedBytes(of: block.cid))
            #expect(Array(bytes) == block.bytes)
        }
        // Bytes handed out before the second batch are still valid and unchanged.
        #expect(Array(early) == first[0].bytes)
    }

    @Test func identityGivesNilAndAbsentIsNotFound() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let identity = CID.v1(codec: .raw, multihash: try Multihash(code: .identity, digest: [1, 2, 3]))
        #expect(try temp.store.unverifiedBytes(of: identity) == nil)
        let absent = try randomBlocks(seed: 73, count: 1)[0].cid
        #expect(throws: BlockStoreError.self) { _ = try temp.store.unverifiedBytes(of: absent) }
    }
}

extension MappedReadTests {
    /// The mapped pages of the store's packs that count in this process's resident size
    /// (`Rss` of each pack mapping in /proc/self/smaps), in bytes.
    static func residentPackBytes(under root: String) throws -> Int {
        // Read to the end: /proc files have no size, and Foundation's whole-file read stops early.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
        defer { try? handle.close() }
        let smaps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        var inPack = false, total = 0
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), first.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
                inPack = fields.count >= 6 && fields[5].hasPrefix(root) && fields[5].hasSuffix(".pack")
            } else if inPack, fields.first == "Rss:", fields.count >= 2, let kib = Int(fields[1]) {
                total += kib << 10
            }
        }
        return total
    }

    /// No connection maps the index: each one's mapping counted in the resident size once per
    /// connection, growing with the store (spec/blockstore.md, "The index's memory").
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/maps")))
    func noConnectionMapsTheIndex() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let blocks = try randomBlocks(seed: 75, count: 300, size: 100)
        try temp.store.putMany(blocks)
        for block in blocks { #expect(try temp.store.has(block.cid)) }
        #expect(try temp.store.hasMany(blocks.map(\.cid)).allSatisfy { $0 })
        #expect(try temp.store.locations(of: blocks.map(\.cid)).allSatisfy { $0 != nil })
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/maps"))
        defer { try? handle.close() }
        let maps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        let index = temp.store.layout.root + "/index.sqlite"
        #expect(!maps.split(separator: "\n").contains { $0.hasSuffix(index) }, "the index is mapped")
    }

    /// Every block borrowed and read in place, one after another, as an export does: the
    /// mapped pages stay within the bound instead of growing to the size of the packs (a 1 GiB
    /// export left 1.1 GB resident in a server before). Linux only (smaps).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/smaps")))
    func borrowedPagesStayWithinTheResidentBound() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let blocks = try randomBlocks(seed: 74, count: 768, size: 64 << 10)  // 48 MiB
        try temp.store.putMany(blocks)
        let bound = temp.store.packMappings.residentBound
        #expect(bound == 16 << 20)
        var peak = 0, sum = 0
        for (index, block) in blocks.enumerated() {
            let bytes = try #require(try temp.store.unverifiedBytes(of: block.cid))
            sum &+= bytes.reduce(0) { $0 &+ Int($1) }  // every page read
            if index % 8 == 7 { peak = max(peak, try Self.residentPackBytes(under: temp.store.layout.root)) }
        }
        #expect(sum != 0)
        #expect(peak > 0)
        #expect(peak <= bound + (1 << 20), "resident pack pages peaked at \(peak) bytes")
        // Pages given back are read again from the file, unchanged.
        for block in blocks.prefix(8) {
            #expect(Array(try #require(try temp.store.unverifiedBytes(of: block.cid))) == block.bytes)
        }
    }
}
