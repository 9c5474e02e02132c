import Chunking
import UnixFS
import Hashing
import Blocks
import Synchronization

import CairnSystem

/// The cutting pass of `cairn bench chunkers` for a file or a stream, and the timed prefixes.
extension ChunkerBench {
    /// Cuts a mapped file: every chunk keyed, tallied and sized into the DAG.
    func scan(
        _ region: UnsafeRawBufferPointer, chunker: ChunkerSpec, tally: inout ChunkTally, dag: inout BalancedDAGSize?,
        progress: (@Sendable (Int) -> Void)?
    ) throws {
        let finder = chunker.makeChunker()
        var offset = 0
        var unreported = 0
        while offset < region.count {
            let window = UnsafeRawBufferPointer(rebasing: region[offset...])
            let length = finder.checkedCut(in: window)
            tally.add(length: length, key: ChunkKey(chunk: UnsafeRawBufferPointer(rebasing: window.prefix(length))))
            dag?.append(chunk: length)
            offset += length
            unreported += length
            if unreported >= Self.batchBytes {
                try cancellation.check()
                progress?(unreported)
                unreported = 0
            }
        }
        if unreported > 0 { progress?(unreported) }
        tally.row.bytes += region.count
    }

    /// Cuts what cannot be mapped (a stream, an empty file) with the streaming reader.
    func scan(
        _ input: ChunkerBenchInput, files: [String], chunker: ChunkerSpec, tally: inout ChunkTally,
        dag: inout BalancedDAGSize?, progress: (@Sendable (Int) -> Void)?
    ) throws {
        let reader = ChunkReader(finder: chunker.makeChunker(), cancellation: cancellation)
        try forEachSource(of: input, files: files) { source in
            let read = try reader.forEachChunk(from: &source) { _, chunk in
                tally.add(length: chunk.count, key: ChunkKey(chunk: chunk))
                dag?.append(chunk: chunk.count)
            }
            tally.row.bytes += read
            progress?(read)
        }
    }

    /// Times `add` on the first `addSampleBytes` of a file or stream (of the files in order,
    /// each on its own, for a directory measured without a DAG): the real importer (one
    /// thread, default layout, into a sink that keeps nothing); for a chunker above Kubo's
    /// block limit, which `add` refuses, cutting and SHA-256 of every chunk instead.
    func timeAdd(
        _ input: ChunkerBenchInput, region: UnsafeRawBufferPointer?, files: [String], chunker: ChunkerSpec,
        into row: inout ChunkerBenchRow
    ) throws {
        let start = monotonicSeconds()
        var bytes = 0
        if chunker.maximumChunkLength <= Chunking.kuboChunkSizeLimit {
            var importer = try FileImporter(parameters: ImportParameters(chunker: chunker), threads: 1)
            importer.cancellation = cancellation
            var sink = DiscardingSink()
            if let region {
                bytes = Swift.min(region.count, addSampleBytes)
                _ = try importer.importBytes(UnsafeRawBufferPointer(rebasing: region.prefix(bytes)), into: &sink)
            } else {
                try forEachSource(of: input, files: files) { source in
                    guard bytes < addSampleBytes else { return }
                    let prefix = PrefixSource(source: source, limit: addSampleBytes - bytes)
                    _ = try importer.importStream(prefix, into: &sink)
                    bytes += prefix.limit - prefix.left.value.load(ordering: .relaxed)
                }
            }
        } else {
            let reader = ChunkReader(finder: chunker.makeChunker(), cancellation: cancellation)
            try forEachSource(of: input, files: files) { source in
                guard bytes < addSampleBytes else { return }
                var prefix = PrefixSource(source: source, limit: addSampleBytes - bytes)
                bytes += try reader.forEachChunk(from: &prefix) { _, chunk in _ = HashAlgorithm.sha2_256.hash(chunk) }
            }
        }
        row.addSeconds = monotonicSeconds() - start
        row.addSampleBytes = bytes
    }

    /// Bytes cut between cancellation checks and progress reports.
    static var batchBytes: Int { 8 << 20 }
}

/// At most `limit` bytes of a source (its first ones); `left` is what was not read of them.
struct PrefixSource: ByteSource, @unchecked Sendable {
    var source: any ByteSource
    let limit: Int
    let left: Counter

    /// Shared with the copy the importer reads from.
    final class Counter: Sendable {
        let value: Atomic<Int>
        init(_ value: Int) { self.value = Atomic(value) }
    }

    init(source: any ByteSource, limit: Int) {
        self.source = source
        self.limit = limit
        self.left = Counter(limit)
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ChunkingError) -> Int {
        let room = left.value.load(ordering: .relaxed)
        guard room > 0 else { return 0 }
        let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer.prefix(room)))
        left.value.subtract(count, ordering: .relaxed)
        return count
    }
}

/// The relative cost of cutting with a chunker, to start the slowest first (spec/cli.md).
enum BenchCost {
    static func of(_ spec: ChunkerSpec) -> Int {
        switch spec.makeChunker() {
        case .rabin: return 3
        case .buzhash, .fastCDC: return 2
        case .fixed: return 1
        }
    }
}

/// The inputs that are one regular file, each mapped once for every chunker.
enum BenchMappings {
    /// The mappings, read-only, shared by the chunkers' threads while `withMappings` runs.
    struct Regions: @unchecked Sendable {
        let all: [UnsafeRawBufferPointer?]
        init(_ all: [UnsafeRawBufferPointer?]) { self.all = all }
    }

    /// Runs `body` with a mapping per input (nil for a directory, a stream, an empty file or a
    /// file that cannot be mapped) and returns the inputs whose file shrank meanwhile.
    static func withMappings(
        of inputs: [ChunkerBenchInput], files: [[String]], _ body: ([UnsafeRawBufferPointer?]) -> Void
    ) -> Set<Int> {
        var regions: [UnsafeRawBufferPointer?] = []
        var damaged = Set<Int>()
        func map(_ index: Int) {
            guard index < inputs.count else { return body(regions) }
            guard !isDirectory(inputs[index]), case .path = inputs[index], let path = files[index].first else {
                regions.append(nil)
                return map(index + 1)
            }
            var info = stat()
            // Only regular files are opened here (a FIFO would wait for a writer).
            let fd = stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? open(path, O_RDONLY | O_CLOEXEC) : -1
            guard fd >= 0, fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
                if fd >= 0 { close(fd) }
                regions.append(nil)
                return map(index + 1)
            }
            // The mapping outlives the descriptor: close it at once, so that many inputs
            // never hold many descriptors.
            var descriptorOpen = true
            let mapped = MappedFile.withMapping(fd, size: Int(info.st_size), advice: Int32(MADV_NORMAL)) { region in
                close(fd)
                descriptorOpen = false
                regions.append(region)
                map(index + 1)
            }
            if descriptorOpen { close(fd) }
            if mapped == nil {
                regions.append(nil)
                map(index + 1)
            } else if mapped!.damaged {
                damaged.insert(index)
            }
        }
        map(0)
        return damaged
    }

    /// A path input that is a directory (imported whole, directory nodes included).
    static func isDirectory(_ input: ChunkerBenchInput) -> Bool {
        guard case .path(let path) = input else { return false }
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
