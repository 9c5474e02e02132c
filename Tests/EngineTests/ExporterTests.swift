import BlockStore
import Blocks
import CairnTestSupport
import Engine
import Foundation
import Multiformats
import Testing
import UnixFS

@Suite("Exporter")
struct ExporterTests {
    static let input = SplitMix64.bytes(seed: 10, count: 300_000)

    /// A balanced tree three levels deep: 1000-byte leaves, 8 links per node.
    static func file() throws -> (root: CID, blocks: [Block]) {
        try importFile(input, flags: ["--chunker=size-1000", "--max-file-links=8", "--raw-leaves"])
    }

    static func cat(_ exporter: Exporter, _ root: CID, offset: UInt64, length: UInt64?) throws -> [UInt8] {
        var out: [UInt8] = []
        let count = try exporter.cat(root, offset: offset, length: length) { out.append(contentsOf: $0) }
        #expect(count == UInt64(out.count))
        return out
    }

    @Test(arguments: [
        (0, nil), (0, 1), (0, 1000), (999, 2), (1000, 1000), (7999, 2), (12_345, 100_000),
        (64_000, 64_000), (299_990, 10), (299_990, 100), (299_999, nil), (150_000, 0),
    ] as [(UInt64, UInt64?)])
    func rangeIsTheSliceOfTheInput(offset: UInt64, length: UInt64?) throws {
        let (root, blocks) = try Self.file()
        let exporter = Exporter(blocks: MemoryBlocks(blocks))
        let start = Int(offset)
        let end = length.map { min(Self.input.count, start + Int($0)) } ?? Self.input.count
        #expect(try Self.cat(exporter, root, offset: offset, length: length) == Array(Self.input[start..<end]))
    }

    @Test func offsetPastTheEndGivesNothing() throws {
        let (root, blocks) = try Self.file()
        let exporter = Exporter(blocks: MemoryBlocks(blocks))
        #expect(try Self.cat(exporter, root, offset: 300_000, length: nil).isEmpty)
        #expect(try Self.cat(exporter, root, offset: 1 << 40, length: 5).isEmpty)
        #expect(try Self.cat(exporter, root, offset: 10, length: .max) == Array(Self.input[10...]))
    }

    /// A range reads only the blocks it needs: the leaves before and after it are not fetched.
    @Test func rangeSkipsBlocksOutsideIt() throws {
        let (root, blocks) = try Self.file()
        let memory = MemoryBlocks(blocks)
        let leaves = blocks.filter { $0.cid.codec == .raw }
        #expect(leaves.count == 300)
        // Bytes 150 000 ..< 151 000 are exactly leaf 150 (1000-byte leaves, in order).
        #expect(try Self.cat(Exporter(blocks: memory), root, offset: 150_000, length: 1000) == Array(Self.input[150_000..<151_000]))
        let fetchedLeaves = Set(memory.requested).intersection(leaves.map(\.cid))
        #expect(fetchedLeaves == [leaves[150].cid])
    }

    /// The same ranges through the block store.
    @Test func rangeFromTheStore() throws {
        let (root, blocks) = try Self.file()
        let directory = try makeTemporaryDirectory("engine-exporter")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try BlockStore(path: directory.path + "/store")
        for block in blocks { _ = try store.put(block) }
        let exporter = Exporter(blocks: store)
        #expect(try Self.cat(exporter, root, offset: 0, length: nil) == Self.input)
        #expect(try Self.cat(exporter, root, offset: 4321, length: 7) == Array(Self.input[4321..<4328]))
    }

    @Test func aMissingBlockIsNotFound() throws {
        let (root, blocks) = try Self.file()
        let exporter = Exporter(blocks: MemoryBlocks(blocks.filter { $0.cid != blocks[0].cid }))
        #expect {
            try exporter.cat(root) { _ in }
        } throws: { error in
            (error as? EngineError)?.code == .notFound
        }
    }

    /// A directory holding `name` (and a good file): writing the tree fails, leaves nothing.
    @Test(arguments: ["..", ".", "a/b", "", "nul\u{0}name"])
    func treeWriterRefusesUnsafeNames(name: String) throws {
        let file = try rawBlock(Array("hello\n".utf8))
        let directory = try dagNode(.directory(), links: [(name: "good", cid: file.cid), (name: name, cid: file.cid)])
        let memory = MemoryBlocks()
        memory.add(file.cid, file.bytes)
        memory.add(directory.cid, directory.bytes)
        let parent = try makeTemporaryDirectory("engine-tree")
        defer { try? FileManager.default.removeItem(at: parent) }
        let out = parent.path + "/out"
        #expect {
            try Exporter(blocks: memory).writeTree(directory.cid, to: out)
        } throws: { error in
            (error as? EngineError)?.code == .unsafeName
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path).isEmpty)
    }

    @Test func treeWriterWritesAFileAndRefusesAnExistingPath() throws {
        let (root, blocks) = try Self.file()
        let exporter = Exporter(blocks: MemoryBlocks(blocks))
        let parent = try makeTemporaryDirectory("engine-tree")
        defer { try? FileManager.default.removeItem(at: parent) }
        let out = parent.path + "/file"
        try exporter.writeTree(root, to: out)
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: out))) == Self.input)
        #expect {
            try exporter.writeTree(root, to: out)
        } throws: { error in
            (error as? EngineError)?.code == .invalidInput
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path) == ["file"])
    }
}
