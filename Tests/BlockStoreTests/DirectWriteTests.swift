import CairnSystem
import CairnTestSupport
import Blocks
import Foundation
import Testing
@testable import BlockStore

/// Whether a file in the temporary directory opens with `O_DIRECT` (ext4 on the machines
/// this runs on; not tmpfs, where the writer does not use it).
let temporaryDirectoryTakesDirectIO: Bool = {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-direct-probe-\(UUID().uuidString)").path
    guard FileManager.default.createFile(atPath: path, contents: nil) else { return false }
    defer { try? FileManager.default.removeItem(atPath: path) }
    guard let fd = SystemCall.openForDirectWrites(path) else { return false }
    close(fd)
    return true
}()

/// Packs written with direct I/O (`BlockStoreWriter.directWrites`, spec/blockstore.md §4):
/// whole 4 KiB blocks from a staging buffer, the partial last block kept staged and written
/// padded at each sync, then truncated back; a full buffer written on a thread while the next
/// fills. The pages must hold exactly what the page-cache path writes.
@Suite("Block store: direct writes", .enabled(if: temporaryDirectoryTakesDirectIO,
                                              "the temporary directory's file system has no direct I/O (tmpfs?)"))
struct DirectWriteTests {
    /// Blocks of sizes that fall across 4 KiB boundaries and past the 4 MiB staging buffer.
    static func blocks(seed: UInt64) throws -> [Block] {
        var rng = SplitMix64(seed: seed)
        let sizes = [1, 4095, 4096, 4097, 100, 262_144, 1_000_000, 65_536, 7, 1_048_576, 333_333, 900_000,
                     12_345, 1_048_576, 1_048_576, 500_000, 3]
        return try sizes.map { size in
            var bytes = [UInt8](repeating: 0, count: size)
            bytes.withUnsafeMutableBytes { rng.fill($0) }
            return try rawBlock(bytes)
        }
    }

    /// Writes `first` with commits at uneven places, closes, reopens (the writer continues the
    /// last pack, whose committed end is not on a block boundary) and writes `second`; returns
    /// the packs' names and bytes and whether the first writer wrote directly.
    static func write(direct: Bool, _ first: [Block], _ second: [Block]) throws -> (packs: [String: [UInt8]], direct: Bool) {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let writer = try temp.store.writer(directWrites: direct)
        writer.packSizeLimit = 2 << 20
        var wroteDirectly = false
        for (i, block) in first.enumerated() {
            #expect(try writer.put(block))
            wroteDirectly = wroteDirectly || writer.writesDirectly
            if i % 4 == 1 { try writer.commit() }
        }
        // Full halves of the staging buffer went to the writer's thread.
        #expect((writer.directWritesStarted > 0) == direct)
        try writer.close()
        // The next writer continues the last pack, whose committed end is not on a 4 KiB
        // boundary: directly, from the bytes of that partial block read back.
        let again = try temp.store.writer(directWrites: direct)
        #expect(again.writesDirectly == direct)
        again.packSizeLimit = 2 << 20
        for block in second { #expect(try again.put(block)) }
        try again.close()
        let store = try temp.reopen()
        for block in first + second { #expect(try store.get(block.cid) == block.bytes) }
        var packs: [String: [UInt8]] = [:]
        for name in try temp.packFiles() {
            packs[name] = try [UInt8](Data(contentsOf: URL(fileURLWithPath: temp.path + "/packs/" + name)))
        }
        return (packs, wroteDirectly)
    }

    @Test func directPacksHoldTheSameBytesAsPageCachePacks() throws {
        let first = try Self.blocks(seed: 91), second = try Self.blocks(seed: 92)
        let direct = try Self.write(direct: true, first, second)
        let buffered = try Self.write(direct: false, first, second)
        // Without direct writes the comparison below would be of two page-cache runs.
        #expect(direct.direct)
        #expect(!buffered.direct)
        #expect(direct.packs.count >= 5)
        #expect(direct.packs.keys.sorted() == buffered.packs.keys.sorted())
        for (name, bytes) in buffered.packs {
            #expect(direct.packs[name] == bytes, "pack \(name) differs")
        }
    }

    @Test func anAbandonedDirectBatchLeavesOnlyTheCommittedBytes() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let blocks = try Self.blocks(seed: 93)
        let writer = try temp.store.writer(directWrites: true)
        for block in blocks[..<5] { try writer.put(block) }
        try writer.commit()
        let committed = try temp.packFiles().map { name in
            (name, try FileManager.default.attributesOfItem(atPath: temp.path + "/packs/" + name)[.size] as! Int)
        }
        // More than a staging buffer: at least one write was in flight on the writer's thread.
        for block in blocks[5...] { try writer.put(block) }
        #expect(writer.writesDirectly)
        #expect(writer.directWritesStarted > 0)
        writer.abandon()
        let store = try temp.reopen()
        for block in blocks[..<5] { #expect(try store.get(block.cid) == block.bytes) }
        for block in blocks[5...] { #expect(try !store.has(block.cid)) }
        for (name, size) in committed {
            let now = try FileManager.default.attributesOfItem(atPath: temp.path + "/packs/" + name)[.size] as! Int
            #expect(now == size, "pack \(name)")
        }
        #expect(try temp.packFiles() == committed.map(\.0))
    }
}
