public import Chunking
public import Hashing
import UnixFS
import Blocks
import Dispatch
import Synchronization

public import CairnSystem

/// `cairn bench chunkers` as a library call: every chunker measured on every input, from the
/// real pipeline (spec/cli.md). Chunkers run in parallel, one per core; each takes the inputs
/// in order, so that with `versions` the chunks of earlier inputs are known when a later one
/// is measured.
///
/// Per input and chunker there are two passes: the chunk pass (`ChunkReader` over each file,
/// every chunk hashed with `hash`, its digest the dedup key, chunking and hashing timed apart
/// on one core) and the DAG pass (the importer with the chunker, default layout, one thread,
/// an only-hash sink), which gives the DAG's size as `add` would build it.
public struct ChunkerBench: Sendable {
    public var inputs: [ChunkerBenchInput]
    public var chunkers: [BenchChunker]
    /// The inputs are successive versions: count the bytes earlier inputs already hold.
    public var versions: Bool
    /// Chunkers measured at once (default: the processors available).
    public var threads: Int?
    public var hash: HashAlgorithm = .sha2_256
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

    /// The content bytes of every input (checks that each can be read).
    public func inputFiles() throws -> [[String]] {
        try inputs.map { try $0.streams() }
    }

    /// Measures everything. `progress` is called with the bytes each chunk pass finished.
    public func run(files: [[String]], progress: (@Sendable (Int) -> Void)? = nil) -> Outcome {
        let state = RunState(chunkers: chunkers.count, inputs: inputs.count)
        let width = Swift.max(1, Swift.min(chunkers.count, Processors.threads(threads)))
        DispatchQueue.concurrentPerform(iterations: width) { _ in
            while true {
                let job = state.next.add(1, ordering: .relaxed).oldValue
                guard job < chunkers.count else { return }
                do {
                    try measure(chunker: chunkers[job], files: files, progress: progress) { index, row in
                        state.results.withLock { $0.rows[job][index] = row }
                    }
                } catch {
                    state.results.withLock { if $0.error == nil || $0.error is CancellationError { $0.error = error } }
                }
            }
        }
        return state.results.withLock { results in
            var rows: [ChunkerBenchRow] = []
            for index in inputs.indices {
                for job in chunkers.indices { if let row = results.rows[job][index] { rows.append(row) } }
            }
            return Outcome(rows: rows, error: results.error)
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
        chunker: BenchChunker, files: [[String]], progress: (@Sendable (Int) -> Void)?,
        finished: (Int, ChunkerBenchRow) -> Void
    ) throws {
        let reader = ChunkReader(finder: chunker.spec.makeChunker(), cancellation: cancellation)
        var earlier = Set<ChunkKey>()
        for (index, input) in inputs.enumerated() {
            var row = ChunkerBenchRow(input: input.label, chunker: chunker)
            var current = Set<ChunkKey>()
            var lengths: [Int32] = []
            var statistics = ChunkStatistics()
            for path in files[index] {
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw EngineError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
                defer { close(fd) }
                var source = FileDescriptorSource(fileDescriptor: fd)
                var mark = monotonicSeconds()
                let read: Int
                do {
                    read = try reader.forEachChunk(from: &source) { _, chunk in
                        let cut = monotonicSeconds()
                        let key = ChunkKey(hash.hash(chunk))
                        let hashed = monotonicSeconds()
                        row.chunkSeconds += cut - mark
                        row.hashSeconds += hashed - cut
                        mark = hashed
                        statistics.add(chunk.count)
                        lengths.append(Int32(chunk.count))
                        row.histogram[Swift.min(ChunkerBenchRow.histogramClasses - 1, Int.bitWidth - 1 - chunk.count.leadingZeroBitCount)] += 1
                        let inEarlier = versions && earlier.contains(key)
                        if inEarlier { row.seenBytes += chunk.count }
                        if current.insert(key).inserted {
                            row.uniqueBytes += chunk.count
                            if !inEarlier { row.newBytes += chunk.count }
                        }
                    }
                } catch let error as ChunkingError {
                    throw EngineError(.io, "\(path): \(error.description)")
                }
                row.chunkSeconds += monotonicSeconds() - mark
                row.bytes += read
                progress?(read)
            }
            row.setDistribution(&lengths, statistics: statistics)
            try dagPass(input, chunker: chunker.spec, into: &row)
            if versions { earlier.formUnion(current) }
            finished(index, row)
        }
    }

    /// The DAG `add -r` builds with this chunker (default layout and CIDs), into an only-hash sink.
    private func dagPass(_ input: ChunkerBenchInput, chunker: ChunkerSpec, into row: inout ChunkerBenchRow) throws {
        guard chunker.maximumChunkLength <= Chunking.kuboChunkSizeLimit else { return }
        var files = try FileImporter(parameters: ImportParameters(chunker: chunker), threads: 1)
        files.cancellation = cancellation
        let tree = try TreeImporter(files: files)
        var sink = DiscardingSink()
        switch input {
        case .path(let path):
            let top = try tree.importPath(path, recursive: true, into: &sink)
            row.dagBytes = top.result.size
        }
        row.dagBlocks = sink.blockCount
    }
}

/// The dedup key of a chunk: the first 32 bytes of its digest, as four words.
struct ChunkKey: Hashable {
    var words: (UInt64, UInt64, UInt64, UInt64)

    init(_ digest: Digest) {
        words = digest.withUnsafeBytes { raw in
            var padded = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
            withUnsafeMutableBytes(of: &padded) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw.prefix(32))) }
            return padded
        }
    }

    static func == (lhs: ChunkKey, rhs: ChunkKey) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
    }
}
