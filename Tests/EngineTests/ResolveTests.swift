import Blocks
import CairnTestSupport
import Engine
import Multiformats
import Testing
import UnixFS

/// `UnixFSReader.resolve` through a HAMT-sharded directory reads only the shards on each name's
/// route (the name's murmur3-x64-64 bucket at each depth, as boxo's `hamt.Shard.Find` walks),
/// never the whole directory, and finds exactly what a full listing finds.
@Suite struct ResolveTests {
    /// A HAMT of `count` entries (fanout 16, so several levels), each naming a distinct raw block.
    static func hamt(_ count: Int) throws -> (root: CID, entries: [DirectoryEntry], blocks: MemoryBlocks, shards: Int) {
        let parameters = try ImportOptions(kuboArguments: ["--max-directory-links=1", "--max-hamt-fanout=16"]).resolve()
        let entries = try (0..<count).map { n in
            DirectoryEntry(name: Array("entry-\(n).txt".utf8), cid: try rawBlock(Array("content \(n)".utf8)).cid, tsize: 9)
        }
        var sink = CollectingSink()
        let result = try DirectoryBuilder(parameters: parameters).build(entries, into: &sink)
        let blocks = sink.distinctBlocks
        return (result.root, entries, MemoryBlocks(blocks), blocks.count)
    }

    @Test func namesResolveThroughTheirRouteOnly() throws {
        let (root, entries, blocks, shards) = try Self.hamt(3000)
        let reader = UnixFSReader(store: blocks)
        // The full listing (every shard read) is the reference.
        var listed: [[UInt8]: CID] = [:]
        try reader.forEachEntry(ofDirectory: root) { listed[$0.name] = $0.cid }
        #expect(listed.count == entries.count)
        let all = blocks.requested.count
        #expect(all == shards, "the listing read \(all) of \(shards) shards")
        #expect(shards > 150, "the HAMT has \(shards) shards: too few levels to tell a route from a listing")

        var most = 0
        for entry in entries where entry.name.last! == UInt8(ascii: "t") && entries.firstIndex(of: entry)! % 7 == 0 {
            let before = blocks.requested.count
            let found = try reader.resolve(root, [String(decoding: entry.name, as: UTF8.self)])
            #expect(found == entry.cid && found == listed[entry.name])
            let read = blocks.requested.count - before
            most = max(most, read)
        }
        // fanout 16 consumes 4 key bits per level; 3000 names need at most a few levels.
        #expect(most >= 2 && most <= 6, "a lookup read \(most) shards")

        let before = blocks.requested.count
        #expect(try reader.entry(named: Array("not-there.txt".utf8), in: root) == nil)
        #expect(blocks.requested.count - before <= 6)
        #expect {
            try reader.resolve(root, ["not-there.txt"])
        } throws: { error in
            (error as? EngineError)?.message == "no link named \"not-there.txt\" under \(root)"
        }
    }

    /// A sub-shard whose fanout is not the root's is refused by a lookup and a listing alike
    /// (the bits of a name's key at each depth assume one fanout throughout, as written by the
    /// builder and boxo); an empty name is in no HAMT.
    @Test func subShardsKeepTheRootsFanout() throws {
        let file = try rawBlock(Array("x".utf8))
        let name = Array("x".utf8)
        let inner = HAMTBucket.prefix(try #require(HAMTBucket.index(of: name, depth: 1, fanout: 256)), fanout: 256)
        let sub = try dagNode(UnixFSData.hamtShard(bitfield: [1], fanout: 256), links: [(String(decoding: inner + name, as: UTF8.self), file.cid)])
        let outer = HAMTBucket.prefix(try #require(HAMTBucket.index(of: name, depth: 0, fanout: 16)), fanout: 16)
        let root = try dagNode(UnixFSData.hamtShard(bitfield: [1], fanout: 16), links: [(String(decoding: outer, as: UTF8.self), sub.cid)])
        let reader = UnixFSReader(store: MemoryBlocks([file, sub, root]))
        let expected = "HAMT \(root.cid) has shard \(sub.cid) with fanout 256, not the root's 16"
        #expect { try reader.entry(named: name, in: root.cid) } throws: { ($0 as? EngineError)?.message == expected }
        #expect { try reader.forEachEntry(ofDirectory: root.cid) { _ in } } throws: { ($0 as? EngineError)?.message == expected }
        #expect(try reader.entry(named: [], in: root.cid) == nil)
    }

    /// A name's route that goes on past the 64 bits of its key (fanout 256: eight levels) is a
    /// malformed HAMT, said so (boxo: "sharded directory too deep"), not "no link named".
    @Test func routesPastTheKeyAreTooDeep() throws {
        let name = Array("x".utf8)
        var blocks = [try dagNode(UnixFSData.hamtShard(bitfield: [0], fanout: 256), links: [])]
        for depth in (0..<8).reversed() {
            let prefix = HAMTBucket.prefix(try #require(HAMTBucket.index(of: name, depth: depth, fanout: 256)), fanout: 256)
            blocks.append(try dagNode(UnixFSData.hamtShard(bitfield: [1], fanout: 256), links: [(String(decoding: prefix, as: UTF8.self), blocks.last!.cid)]))
        }
        let root = blocks.last!.cid
        let reader = UnixFSReader(store: MemoryBlocks(blocks))
        let expected = "HAMT \(root) is sharded too deep: shard \(blocks[0].cid) is past the 64 bits of a name's key"
        #expect { try reader.entry(named: name, in: root) } throws: { ($0 as? EngineError)?.message == expected }
    }

    /// A basic directory: its link of that name; a file on the way is not a directory.
    @Test func basicDirectoriesAndFiles() throws {
        let file = try rawBlock(Array("hello".utf8))
        let directory = try dagNode(UnixFSData.directory(mode: nil, mtime: nil), links: [("a.txt", file.cid), ("b.txt", file.cid)])
        let blocks = MemoryBlocks([file, directory])
        let reader = UnixFSReader(store: blocks)
        #expect(try reader.resolve(directory.cid, ["b.txt"]) == file.cid)
        #expect(try reader.entry(named: Array("c.txt".utf8), in: directory.cid) == nil)
        #expect {
            try reader.resolve(directory.cid, ["a.txt", "x"])
        } throws: { error in
            (error as? EngineError)?.message == "\(file.cid) is not a directory"
        }
    }
}
