public import Chunking
import UnixFS
import Hashing
import Dispatch
import Synchronization

public import CairnSystem

/// `cairn bench chunkers` as a library call: every chunker measured on every input, from the
/// real pipeline (spec/cli.md). Chunkers run in parallel, one per core, the slowest first; each
/// takes the inputs in order, so that with `versions` the chunks of earlier inputs are known
/// when a later one is measured.
///
/// A file is mapped once and every chunker cuts it from the same mapping (a stream is read by
/// each); each chunk is keyed with ``Key128`` for dedup, and the DAG `add` would build is sized
/// from the chunk lengths (``BalancedDAGSize``). Throughput is timed on bounded prefixes: the
/// real importer (`add -r --only-hash`, one thread) for `add_mb_s`, reading and cutting alone
/// for `chunk_mb_s`. A directory is imported whole by the real importer instead (its DAG holds
/// directory nodes), every leaf tallied as it is put.
public struct ChunkerBench: Sendable {
    public var inputs: [ChunkerBenchInput]
    public var chunkers: [BenchChunker]
    /// The inputs are successive versions: count the bytes earlier inputs already hold.
    public var versions: Bool
    /// Chunkers measured at once (default: the processors available).
    public var threads: Int?
    /// Bytes from the start of each input read and cut without hashing to time chunking alone.
    public var sampleBytes = 16 << 20
    /// Bytes from the start of each file or stream imported to time `add` (`add_mb_s`).
    public var addSampleBytes = 32 << 20
    public var cancellation: CancellationToken = .process

    public init(inputs: [ChunkerBenchInput], chunkers: [BenchChunker], versions: Bool, threads: Int? = nil) {
        self.inputs = inputs
        self.chunkers = chunkers
        self.versions = versions
        self.threads = threads
    }

    /// What was measured: every finished row, in input order then chunker order, and the
    /// first error (a cancellation included) that stopped a chunker early.
    public struct Outcome: Sendable {
        public var rows: [ChunkerBenchRow]
        public var error: (any Error)?
    }

    /// The content files of every input (checks that each can be read; none for a stream).
    public func inputFiles() throws -> [[String]] {
        try inputs.map { try $0.streams() }
    }

    /// Measures everything. `progress` is called with the content bytes measured as they go.
    public func run(files: [[String]], progress: (@Sendable (Int) -> Void)? = nil) -> Outcome {
        let state = RunState(chunkers: chunkers.count, inputs: inputs.count)
        let order = chunkers.indices.sorted { BenchCost.of(chunkers[$0].spec) > BenchCost.of(chunkers[$1].spec) }
        let width = Swift.max(1, Swift.min(chunkers.count, Processors.threads(threads)))
        let damaged = BenchMappings.withMappings(of: inputs, files: files) { mapped in
            let regions = BenchMappings.Regions(mapped)
            DispatchQueue.concurrentPerform(iterations: width) { _ in
                while true {
                    let next = state.next.add(1, ordering: .relaxed).oldValue
                    guard next < order.count else { return }
                    let job = order[next]
                    do {
                        try measure(chunker: chunkers[job], files: files, regions: regions.all, progress: progress) { index, row in
                            state.results.withLock { $0.rows[job][index] = row }
                        }
                    } catch {
                        state.results.withLock { if $0.error == nil || $0.error is CancellationError { $0.error = error } }
                    }
                }
            }
        }
        return state.results.withLock { results in
            var rows: [ChunkerBenchRow] = []
            for index in inputs.indices where !damaged.contains(index) {
                for job in chunkers.indices { if let row = results.rows[job][index] { rows.append(row) } }
            }
            var error = results.error
            if let index = damaged.first, error == nil || error is CancellationError {
                error = EngineError(.io, "\(inputs[index].label): changed size while it was being read")
            }
            return Outcome(rows: rows, error: error)
        }
    }

    /// The rows finished so far (by chunker, then input), the first error, the next chunker to take.
    private final class RunState: Sendable {
        struct Results {
            var rows: [[ChunkerBenchRow?]]
            var error: (any Error)?
        }

        let results: Mutex<Results>
        let next = Atomic<Int>(0)

        init(chunkers: Int, inputs: Int) {
            results = Mutex(Results(rows: Array(repeating: Array(repeating: nil, count: inputs), count: chunkers)))
        }
    }

    private func measure(
        chunker: BenchChunker, files: [[String]], regions: [UnsafeRawBufferPointer?], progress: (@Sendable (Int) -> Void)?,
        finished: (Int, ChunkerBenchRow) -> Void
    ) throws {
        var earlier = Set<ChunkKey>()
        let sample = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(1, sampleBytes), alignment: 64)
        defer { sample.deallocate() }
        let buildsDAG = chunker.spec.maximumChunkLength <= Chunking.kuboChunkSizeLimit
        for (index, input) in inputs.enumerated() {
            var tally = ChunkTally(row: ChunkerBenchRow(input: input.label, chunker: chunker), earlier: versions ? earlier : nil)
            try timeChunking(input, files: files[index], chunker: chunker.spec, buffer: sample, into: &tally.row)
            if buildsDAG && BenchMappings.isDirectory(input) {
                let start = monotonicSeconds()
                try importPass(input, chunker: chunker.spec, tally: &tally, progress: progress)
                tally.row.addSeconds = monotonicSeconds() - start
                tally.row.addSampleBytes = tally.row.bytes
            } else {
                // Timed first: the cutting pass, which reports progress, then ends the row.
                try timeAdd(input, region: regions[index], files: files[index], chunker: chunker.spec, into: &tally.row)
                var dag = buildsDAG ? BalancedDAGSize(maxLinks: ImportParameters.defaultMaxLinks) : nil
                if let region = regions[index] {
                    try scan(region, chunker: chunker.spec, tally: &tally, dag: &dag, progress: progress)
                } else {
                    try scan(input, files: files[index], chunker: chunker.spec, tally: &tally, dag: &dag, progress: progress)
                }
                if var dag {
                    tally.row.dagBytes = dag.finish()
                    tally.row.dagBlocks = dag.blocks
                }
            }
            if versions { earlier.formUnion(tally.current) }
            finished(index, tally.finish())
        }
    }

    /// A directory: imported whole as `add -r --only-hash` imports it with this chunker
    /// (default layout and CIDs, one thread), into a sink that tallies every leaf.
    private func importPass(
        _ input: ChunkerBenchInput, chunker: ChunkerSpec, tally: inout ChunkTally, progress: (@Sendable (Int) -> Void)?
    ) throws {
        guard case .path(let path) = input else { return }
        var files = try FileImporter(parameters: ImportParameters(chunker: chunker), threads: 1)
        files.cancellation = cancellation
        var sink = TallySink(tally: tally, progress: progress)
        let result = try TreeImporter(files: files).importPath(path, recursive: true, into: &sink).result
        sink.flushProgress()
        tally = sink.tally
        tally.row.dagBytes = result.size
        tally.row.dagBlocks = sink.blocks
    }

    /// Times reading and chunking alone, as `cairn chunk` does them: up to `buffer.count` bytes
    /// from the start of the input (each file of a directory cut on its own) read into memory,
    /// then cut with no hashing.
    private func timeChunking(
        _ input: ChunkerBenchInput, files: [String], chunker: ChunkerSpec, buffer: UnsafeMutableRawBufferPointer,
        into row: inout ChunkerBenchRow
    ) throws {
        let finder = chunker.makeChunker()
        try forEachSource(of: input, files: files) { source in
            let room = buffer.count - row.chunkSampleBytes
            guard room > 0 else { return }
            let start = monotonicSeconds()
            var filled = 0
            while filled < room {
                let count = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer.baseAddress! + filled, count: room - filled))
                if count == 0 { break }
                filled += count
            }
            let piece = UnsafeRawBufferPointer(start: buffer.baseAddress, count: filled)
            var chunks = 0
            finder.forEachChunk(in: piece) { _, _ in chunks += 1 }
            row.chunkSeconds += monotonicSeconds() - start
            row.chunkSampleBytes += filled
        }
    }

    /// Each byte source of the input in order: its files, or its stream. Read errors become
    /// `EngineError(.io)` naming the file, or the stream's own error.
    func forEachSource(of input: ChunkerBenchInput, files: [String], _ body: (inout any ByteSource) throws -> Void) throws {
        switch input {
        case .path:
            for path in files {
                try cancellation.check()
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw EngineError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
                defer { close(fd) }
                var source: any ByteSource = FileDescriptorSource(fileDescriptor: fd)
                do { try body(&source) } catch let error as ChunkingError {
                    throw EngineError(.io, "\(path): \(error.description)")
                }
            }
        case .stream(_, _, let open):
            let stream = try open()
            let failure = stream.failure
            var source: any ByteSource = stream
            do { try body(&source) } catch let error as ChunkingError {
                throw failure.error ?? EngineError(.io, "\(input.label): \(error.description)")
            }
        }
    }
}
