import CairnTestSupport
import Chunking
import Multiformats
import Testing
@testable import UnixFS
@testable import Blocks

/// Directory-related options, profiles (kubo-import-semantics.md §7.2) and their structural
/// effects (max links, fanout, metadata on file roots).
@Suite struct DirectoryOptionsTests {
    static func resolve(_ flags: [String]) throws -> ImportParameters {
        try ImportOptions(kuboArguments: flags).resolve()
    }

    @Test func profilesSetEveryDirectoryParameter() throws {
        let v0 = try Self.resolve(["--profile=unixfs-v0-2015"])
        #expect(v0.directory == DirectoryParameters(hamtThreshold: 262_144, estimation: .links, maxLinks: 0, hamtFanout: 256))
        #expect(try Self.resolve(["--profile=legacy-cid-v0"]) == v0)
        #expect(try Self.resolve([]) == v0, "Kubo's default equals unixfs-v0-2015")
        let v1 = try Self.resolve(["--profile=unixfs-v1-2025"])
        #expect(v1.directory == DirectoryParameters(hamtThreshold: 262_144, estimation: .block, maxLinks: 0, hamtFanout: 256))
        #expect(v1.cidVersion == .v1 && v1.rawLeaves && v1.maxLinks == 1024)
        #expect(v1.chunker == (try ChunkerSpec(parsing: "size-1048576")))
        let overridden = try Self.resolve(["--profile=unixfs-v1-2025", "--max-directory-links=10", "--max-hamt-fanout=1024"])
        #expect(overridden.directory.maxLinks == 10)
        #expect(overridden.directory.hamtFanout == 1024)
        #expect(overridden.directory.estimation == .block)
    }

    @Test func metadataTurnsRawLeavesOff() throws {
        let implied = try Self.resolve(["--cid-version=1", "--preserve-mode"])
        #expect(!implied.rawLeaves)
        #expect(implied.metadata.preserveMode)
        #expect(throws: ImportOptionsError.self) { try Self.resolve(["--raw-leaves=true", "--mtime=5"]) }
        #expect(try Self.resolve(["--mode=0764"]).metadata.mode == 0o764)
        #expect(try Self.resolve(["--mode=0", "--mtime=0"]).metadata.isNone, "0 means not given, as in Kubo")
        #expect(throws: ImportOptionsError.self) { try Self.resolve(["--mode=0789"]) }
        #expect(throws: ImportOptionsError.self) { try Self.resolve(["--mtime-nsecs=5"]) }
    }

    @Test(arguments: [4, 12, 2048, 100])
    func refusedFanouts(fanout: Int) throws {
        #expect(throws: ImportOptionsError.self) { try Self.resolve(["--max-hamt-fanout=\(fanout)"]) }
    }

    static func entries(_ count: Int) throws -> [DirectoryEntry] {
        let file = try TreeFixtures.fileRoot(Array("x".utf8))
        return (0..<count).map { DirectoryEntry(name: Array("entry-\($0)".utf8), cid: file.root, tsize: file.size) }
    }

    static func rootData(_ entries: [DirectoryEntry], _ parameters: ImportParameters) throws -> (UnixFSData, PBNode) {
        var sink = CollectingSink()
        let result = try DirectoryBuilder(parameters: parameters).build(entries, into: &sink)
        let last = try #require(sink.blocks.last)
        #expect(last.cid == result.root)
        let node = try PBNode(decoding: last.bytes)
        return (try UnixFSData(decoding: node.data ?? []), node)
    }

    /// `--max-directory-links=N`: N entries stay basic, N+1 shard; with the threshold at 0
    /// nothing shards and N+1 entries is an error (boxo `BasicDirectory`).
    @Test func maxDirectoryLinks() throws {
        var parameters = try Self.resolve(["--max-directory-links=5"])
        #expect(try Self.rootData(Self.entries(5), parameters).0.type == .directory)
        let (data, node) = try Self.rootData(Self.entries(6), parameters)
        #expect(data.type == .hamtShard)
        #expect(data.fanout == 256 && data.hashType == 0x22)
        #expect(node.links.allSatisfy { $0.name!.count >= 2 })
        parameters.directory.hamtThreshold = 0
        var sink = DiscardingSink()
        #expect(throws: ImportError.self) { try DirectoryBuilder(parameters: parameters).build(Self.entries(6), into: &sink) }
        parameters.directory.maxLinks = 0
        #expect(try Self.rootData(Self.entries(6000), parameters).0.type == .directory)
    }

    /// `--max-hamt-fanout=1024`: 3-hex-digit labels, fanout field 1024, and every value link is
    /// `HEX(bucket) + name` with bucket = the key's top 10 bits.
    @Test func wideFanout() throws {
        let parameters = try Self.resolve(["--max-directory-links=1", "--max-hamt-fanout=1024"])
        let entries = try Self.entries(40)
        let (data, node) = try Self.rootData(entries, parameters)
        #expect(data.fanout == 1024)
        for link in node.links where link.name!.count > 3 {
            let label = String(decoding: link.name!.prefix(3), as: UTF8.self)
            let name = Array(link.name!.dropFirst(3))
            #expect(Int(label, radix: 16) == Int(Murmur3.hamtKey(name) >> 54), "\(label)")
            #expect(label == label.uppercased())
        }
        // The bitfield has one bit per occupied bucket, most significant byte first.
        let buckets = Set(entries.map { Int(Murmur3.hamtKey($0.name) >> 54) })
        let bits = (data.data ?? []).reduce(0) { $0 + $1.nonzeroBitCount }
        #expect(bits == buckets.count)
        #expect(data.data?.first != 0)
    }

    /// File roots with metadata: one-leaf, multi-leaf and trickle roots keep their content
    /// fields and gain mode/mtime; the one-leaf root is not also put without them.
    @Test func fileRootMetadata() throws {
        var parameters = try Self.resolve(["--chunker=size-1000"])
        let metadata = UnixFSMetadata(mode: 0o640, mtime: UnixFSTime(seconds: 1_600_000_000, nanoseconds: 7))
        for (size, layout) in [(700, FileLayout.balanced), (2500, .balanced), (700, .trickle), (2500, .trickle)] {
            parameters.layout = layout
            let bytes = SplitMix64.bytes(seed: 9, count: size)
            var plain = CollectingSink()
            let without = try FileImporter(parameters: parameters, threads: 1).importBytes(bytes, into: &plain)
            var sink = CollectingSink()
            let importer = try FileImporter(parameters: parameters, threads: 1)
            let root = try importer.importStream(BufferSource(bytes), into: &sink, metadata: metadata)
            #expect(root.root != without.root)
            #expect(sink.blocks.count == plain.blocks.count, "\(size) \(layout): same number of blocks")
            #expect(sink.blocks.last?.cid == root.root)
            let node = try PBNode(decoding: sink.blocks.last!.bytes)
            let data = try UnixFSData(decoding: node.data ?? [])
            let plainData = try UnixFSData(decoding: try PBNode(decoding: plain.blocks.last!.bytes).data ?? [])
            #expect(data.mode == 0o640 && data.mtime == metadata.mtime)
            #expect(data.type == plainData.type && data.data == plainData.data && data.fileSize == plainData.fileSize
                && data.blockSizes == plainData.blockSizes)
            #expect(Array(sink.blocks.dropLast()) == Array(plain.blocks.dropLast()), "only the root differs")
        }
    }
}
