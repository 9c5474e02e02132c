import CairnSystem
import CairnTestSupport
import Chunking
import Foundation
import Hashing
import Multiformats
import Testing
@testable import UnixFS
@testable import Blocks


/// The pipeline itself: every way of feeding it (memory, memory map, stream with odd read
/// sizes, any thread count, tiny batches) puts the same blocks in the same order.
@Suite struct ImporterTests {
    /// A source that returns at most a few bytes per read, to stress batch/carry boundaries.
    struct TrickleSource: ByteSource {
        let bytes: [UInt8]
        var position = 0
        var rng = SplitMix64(seed: 5)

        mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ChunkingError) -> Int {
            let n = min(buffer.count, bytes.count - position, Int(rng.next() % 3000) + 1)
            for i in 0..<n { buffer[i] = bytes[position + i] }
            position += n
            return n
        }
    }

    static let settings: [[String]] = [
        [], ["--trickle"], ["--chunker=size-1000", "--max-file-links=3"], ["--trickle", "--chunker=size-1000", "--max-file-links=5"],
        ["--chunker=rabin-16384-65536-131072", "--cid-version=1"], ["--chunker=buzhash", "--raw-leaves"],
    ]

    func blocks(_ sink: CollectingSink) -> [String] { sink.blocks.map { "\($0.cid) \($0.bytes.count)" } }

    @Test(arguments: settings)
    func everyPathGivesTheSameBlocks(flags: [String]) throws {
        let input = SplitMix64.bytes(seed: 11, count: 1_300_007)
        let parameters = try ImportOptions(kuboArguments: flags).resolve()
        var reference = CollectingSink()
        let expected = try FileImporter(parameters: parameters, threads: 1).importBytes(input, into: &reference)

        for threads in [1, 2, 3] {
            var importer = try FileImporter(parameters: parameters, threads: threads)
            importer.batchBytes = 70_000
            importer.batchLeaves = 7
            var memory = CollectingSink()
            #expect(try importer.importBytes(input, into: &memory) == expected)
            #expect(memory.blocks == reference.blocks, "memory, \(threads) threads")

            var streamed = CollectingSink()
            #expect(try importer.importStream(TrickleSource(bytes: input), into: &streamed) == expected)
            #expect(blocks(streamed) == blocks(reference), "stream, \(threads) threads")
        }

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-importer-\(UUID().uuidString).bin").path
        try Data(input).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        for mapped in [true, false] {
            var importer = try FileImporter(parameters: parameters, threads: 2)
            importer.memoryMapFiles = mapped
            var sink = CollectingSink()
            #expect(try importer.importFile(atPath: path, into: &sink) == expected)
            #expect(sink.blocks == reference.blocks, "file, mapped: \(mapped)")
        }
    }

    @Test func childrenComeBeforeParents() throws {
        let input = SplitMix64.bytes(seed: 3, count: 40_000)
        for flags in [["--chunker=size-1000", "--max-file-links=3"], ["--trickle", "--chunker=size-1000", "--max-file-links=3"]] {
            var sink = CollectingSink()
            let result = try FileImporter(parameters: ImportOptions(kuboArguments: flags).resolve()).importBytes(input, into: &sink)
            var seen = Set<CID>()
            var contentBytes = 0
            for block in sink.blocks {
                if block.cid.codec == .dagPB {
                    let node = try PBNode(decoding: block.bytes)
                    let data = try UnixFSData(decoding: node.data!)
                    for link in node.links { #expect(seen.contains(link.hash), "a link points to a block not yet put") }
                    if node.links.isEmpty { contentBytes += data.data?.count ?? 0 }
                    #expect(data.blockSizes.count == node.links.count)
                    #expect(data.fileSize == UInt64(data.data?.count ?? 0) + data.blockSizes.reduce(0, +))
                    // Internal nodes never hold more than maxLinks links in balanced layout.
                    if flags.first != "--trickle" { #expect(node.links.count <= 3) }
                }
                seen.insert(block.cid)
            }
            #expect(contentBytes == input.count)
            #expect(sink.blocks.last?.cid == result.root)
        }
    }

    @Test func cancellationStopsTheImport() throws {
        var importer = try FileImporter(threads: 2)
        importer.batchBytes = 1 << 20
        importer.cancellation = CancellationToken()
        importer.cancellation.cancel()
        var sink = DiscardingSink()
        #expect(throws: CancellationError.self) {
            try importer.importBytes(SplitMix64.bytes(seed: 1, count: 3 << 20), into: &sink)
        }
        #expect(sink.blockCount == 0)
    }

    @Test func cancelledTaskStopsTheImport() async throws {
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            var sink = DiscardingSink()
            return try FileImporter(threads: 1).importBytes(SplitMix64.bytes(seed: 1, count: 1 << 20), into: &sink)
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    struct FailingSink: BlockSink {
        struct Full: Error {}
        var left: Int
        mutating func put(_ cid: CID, _ bytes: BlockBytes) throws {
            if left == 0 { throw Full() }
            left -= 1
        }
    }

    @Test func sinkErrorsStopTheImport() throws {
        var sink = FailingSink(left: 5)
        #expect(throws: FailingSink.Full.self) {
            try FileImporter(threads: 2).importBytes(SplitMix64.bytes(seed: 2, count: 4 << 20), into: &sink)
        }
    }

    /// A sink error while the next batch is being hashed: the import must drain the hashing
    /// stage before the input's memory goes away (it used to crash in the hash kernel).
    @Test(arguments: [["--chunker=size-262144"], ["--chunker=buzhash"]])
    func sinkErrorWhileTheNextBatchIsHashed(flags: [String]) throws {
        let input = SplitMix64.bytes(seed: 12, count: 6 << 20)
        var importer = try FileImporter(parameters: ImportOptions(kuboArguments: flags).resolve(), threads: 2)
        importer.batchBytes = 1 << 20
        for _ in 0..<30 {
            var sink = FailingSink(left: 0)
            #expect(throws: FailingSink.Full.self) {
                try importer.importStream(BufferSource(input), into: &sink)
            }
            var mapped = FailingSink(left: 0)
            #expect(throws: FailingSink.Full.self) { try importer.importBytes(input, into: &mapped) }
        }
    }

    /// `beside(busyThreads:)` (spec/oci.md §5): a fixed-size chunker gives up as many hashing
    /// threads as the caller keeps busy, never the last one, and keeps the rest of its settings;
    /// a content-defined chunker keeps its threads. The CIDs are the same either way.
    @Test func besideBusyThreads() throws {
        var fixed = try FileImporter(parameters: ImportOptions(kuboArguments: ["--chunker=size-262144"]).resolve(), threads: 4)
        fixed.batchBytes = 3 << 20
        #expect(fixed.beside(busyThreads: 1).threads == 3)
        #expect(fixed.beside(busyThreads: 2).threads == 2)
        #expect(fixed.beside(busyThreads: 9).threads == 1)
        #expect(fixed.beside(busyThreads: 0).threads == 4)
        #expect(fixed.beside(busyThreads: 2).batchBytes == 3 << 20)
        let rabin = try FileImporter(parameters: ImportOptions(kuboArguments: ["--chunker=buzhash"]).resolve(), threads: 4)
        #expect(rabin.beside(busyThreads: 2).threads == 4)
        let input = SplitMix64.bytes(seed: 13, count: 3 << 20)
        var all = CollectingSink(), fewer = CollectingSink()
        let a = try fixed.importBytes(input, into: &all)
        let b = try fixed.beside(busyThreads: 3).importBytes(input, into: &fewer)
        #expect(a == b)
        #expect(all.blocks.map(\.cid) == fewer.blocks.map(\.cid))
    }

    /// A descriptor positioned past the start imports the rest of the file (as `ipfs add` of a
    /// partly consumed stdin would), with every chunker and thread count; `batchBytes` of 0 is
    /// taken as the smallest batch.
    @Test(arguments: [["--chunker=size-65536"], ["--chunker=buzhash"], ["--chunker=fastcdc-16384-65536-262144"]])
    func descriptorPastTheStart(flags: [String]) throws {
        let input = SplitMix64.bytes(seed: 13, count: 5 << 20)
        let parameters = try ImportOptions(kuboArguments: flags).resolve()
        var reference = CollectingSink()
        let expected = try FileImporter(parameters: parameters, threads: 1).importBytes(Array(input[100...]), into: &reference)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-offset-\(UUID().uuidString).bin").path
        try Data(input).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        for threads in [1, 2] {
            for batch in [nil, 0] as [Int?] {
                var importer = try FileImporter(parameters: parameters, threads: threads)
                if let batch { importer.batchBytes = batch }
                let fd = open(path, O_RDONLY)
                try #require(fd >= 0)
                defer { close(fd) }
                #expect(lseek(fd, 100, SEEK_SET) == 100)
                var sink = CollectingSink()
                #expect(try importer.importFile(descriptor: fd, into: &sink) == expected, "\(threads) threads, batch \(String(describing: batch))")
                #expect(blocks(sink) == blocks(reference))
            }
        }
    }

    /// procfs files report size 0 but have content: they are read to their end. The oracle is the
    /// file as Foundation reads it (to EOF) and the in-memory import of those bytes. The file must
    /// be stable between reads: /proc/kallsyms (several MB, many chunks) when readable, else
    /// /proc/version.
    @Test(arguments: [["--chunker=size-262144"], ["--chunker=buzhash"]])
    func fileThatReportsNoSize(flags: [String]) throws {
        let parameters = try ImportOptions(kuboArguments: flags).resolve()
        let path = try #require(["/proc/kallsyms", "/proc/version"].first { path in
            (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).readToEnd())?.isEmpty == false
        })
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_size == 0, "\(path) reports a size")
        let bytes = try #require(try FileHandle(forReadingFrom: URL(fileURLWithPath: path)).readToEnd())
        var reference = CollectingSink()
        let expected = try FileImporter(parameters: parameters).importBytes([UInt8](bytes), into: &reference)
        for threads in [1, 2] {
            var sink = CollectingSink()
            let result = try FileImporter(parameters: parameters, threads: threads).importFile(atPath: path, into: &sink)
            #expect(result.fileSize == UInt64(bytes.count), "\(path), \(threads) threads")
            #expect(result == expected, "\(path), \(threads) threads")
        }
    }

    @Test func inlineAppliesToEveryBlockKind() throws {
        // 40 one-byte chunks: leaves are 1-byte raw blocks (inlined); internal nodes are not.
        let input = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN".utf8)
        let parameters = try ImportOptions(kuboArguments: ["--inline", "--cid-version=1", "--chunker=size-1", "--max-file-links=4"]).resolve()
        var sink = CollectingSink()
        let result = try FileImporter(parameters: parameters).importBytes(input, into: &sink)
        var inlinedLeaves: [UInt8] = [], stored = 0
        for block in sink.blocks {
            let inlined = block.cid.multihash.code == .identity
            #expect(inlined == (block.bytes.count <= 32))
            if inlined {
                #expect(block.cid.multihash.digest == block.bytes)
                inlinedLeaves += block.bytes
            } else {
                stored += 1
            }
        }
        // Both kinds occur: every chunk is an inlined leaf (in order), and the internal nodes,
        // the root among them, are hashed.
        #expect(inlinedLeaves == input)
        #expect(stored > 0)
        #expect(result.root.multihash.code == .sha2_256)
    }
}

/// Kubo's option resolution (kubo-import-semantics.md §2.2, §7).
@Suite struct OptionTests {
    func resolve(_ flags: String) throws -> ImportParameters {
        try ImportOptions(kuboArguments: flags.split(separator: " ").map(String.init)).resolve()
    }

    func refuses(_ flags: String, _ phrase: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try resolve(flags)
            Issue.record("accepted \(flags)", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)".contains(phrase), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func implications() throws {
        #expect(try resolve("") == .kuboDefault)
        let v1 = try resolve("--cid-version=1")
        #expect(v1.cidVersion == .v1 && v1.rawLeaves)
        #expect(try resolve("--cid-version=1 --raw-leaves=false").rawLeaves == false)
        let blake = try resolve("--hash=blake3")
        #expect(blake.cidVersion == .v1 && blake.rawLeaves && blake.hashAlgorithm == .blake3)
        #expect(try resolve("--raw-leaves").cidVersion == .v0)
        #expect(try resolve("-t -s size-1000").layout == .trickle)
    }

    @Test func profiles() throws {
        let v1 = try resolve("--profile=unixfs-v1-2025")
        #expect(v1.cidVersion == .v1 && v1.rawLeaves && v1.maxLinks == 1024 && v1.chunker == .fixed(size: 1_048_576))
        #expect(try resolve("--profile=unixfs-v0-2015") == .kuboDefault)
        #expect(try resolve("--profile=legacy-cid-v0") == .kuboDefault)
        // Explicit flags override profile values.
        #expect(try resolve("--profile=unixfs-v1-2025 --chunker=size-262144 --raw-leaves=false").rawLeaves == false)
        // A profile's raw-leaves=false counts as configured: CIDv1 then keeps dag-pb leaves (Kubo add.go).
        #expect(try resolve("--profile=unixfs-v0-2015 --cid-version=1").rawLeaves == false)
    }

    @Test func refusals() {
        refuses("--hash=sha2-512 --cid-version=0", "CIDv0 only supports sha2-256")
        refuses("--profile=unixfs-v0-2015 --hash=sha2-512", "CIDv0 only supports sha2-256")
        refuses("--cid-version=2", "unknown CID version 2")
        refuses("--inline --inline-limit=129", "inline-limit 129 exceeds the maximum of 128")
        refuses("--max-file-links=1", "max-file-links must be at least 2")
        refuses("--hash=md5", "unrecognized hash function")
        refuses("--chunker=size-2096897", "exceeds Kubo's limit")
        refuses("--chunker=fastcdc-262144-1048576-4194304", "above Kubo's block limit")
        refuses("--profile=test-cid-v1", "unknown profile")
        refuses("--raw-leaves=maybe", "not true or false")
        refuses("--wrap", "unknown import option")
    }

    @Test func inlineLimitIsOnlyCheckedWithInline() throws {
        #expect(try resolve("--inline-limit=500").inlineLimit == nil)
        #expect(try resolve("--inline").inlineLimit == 32)
    }
}
