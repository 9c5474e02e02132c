public import Chunking

/// The figures of one input measured with one chunker (spec/cli.md, `cairn bench chunkers`).
public struct ChunkerBenchRow: Sendable {
    public var input: String
    public var chunker: BenchChunker
    /// Content bytes (the sum of the input's regular files).
    public var bytes = 0
    public var chunks = 0
    public var mean = 0.0
    /// Population standard deviation of the chunk lengths.
    public var stddev = 0.0
    /// Nearest-rank percentiles of the chunk lengths.
    public var p5 = 0, p50 = 0, p95 = 0
    public var min = 0, max = 0
    /// Bytes of this input's chunks not met earlier in the same input.
    public var uniqueBytes = 0
    /// Bytes of this input's chunks (every occurrence) already present in earlier inputs
    /// (with `versions`; else 0).
    public var seenBytes = 0
    /// Bytes a push of this input uploads: chunks met for the first time, here and before.
    public var newBytes = 0
    /// The DAG's total size as `add` builds it with this chunker (the root's cumulative size,
    /// Kubo's `Size`), and its blocks (repeats included); nil when the chunker's maximum chunk
    /// exceeds Kubo's block limit, so that `add` refuses it.
    public var dagBytes: UInt64?
    public var dagBlocks: Int?
    /// One core: seconds spent cutting `chunkSampleBytes` from the input's start, held in memory.
    public var chunkSeconds = 0.0
    public var chunkSampleBytes = 0
    /// One core: seconds `add` (the real importer) took to read, cut, hash and build the DAG
    /// of `addSampleBytes` from the input's start (all of it for a directory).
    public var addSeconds = 0.0
    public var addSampleBytes = 0
    /// Chunk counts by size class: entry i counts chunks of 2^i … 2^(i+1) − 1 bytes.
    public var histogram = [Int](repeating: 0, count: ChunkerBenchRow.histogramClasses)

    public static let histogramClasses = 32

    public init(input: String, chunker: BenchChunker) {
        self.input = input
        self.chunker = chunker
    }

    /// Chunking alone, MB/s (10^6 bytes).
    public var chunkMBps: Double { chunkSeconds > 0 ? Double(chunkSampleBytes) / 1e6 / chunkSeconds : 0 }
    /// Reading, chunking, hashing and the DAG, MB/s.
    public var addMBps: Double { addSeconds > 0 ? Double(addSampleBytes) / 1e6 / addSeconds : 0 }
    /// Chunks per GiB of content.
    public var blocksPerGiB: Double { bytes > 0 ? Double(chunks) * Double(1 << 30) / Double(bytes) : 0 }
    /// DAG bytes beyond the content, as a fraction of the content.
    public var dagOverhead: Double? {
        guard let dagBytes, bytes > 0 else { return nil }
        return Double(Int(dagBytes) - bytes) / Double(bytes)
    }

    /// Fills the distribution fields from every chunk length (sorted here).
    mutating func setDistribution(_ lengths: inout [Int32], statistics: ChunkStatistics) {
        chunks = statistics.count
        mean = statistics.mean
        stddev = statistics.standardDeviation
        min = statistics.minimum
        max = statistics.maximum
        guard !lengths.isEmpty else { return }
        lengths.sort()
        func rank(_ percent: Int) -> Int {
            let index = (lengths.count * percent + 99) / 100 - 1
            return Int(lengths[Swift.max(0, index)])
        }
        p5 = rank(5)
        p50 = rank(50)
        p95 = rank(95)
    }
}
