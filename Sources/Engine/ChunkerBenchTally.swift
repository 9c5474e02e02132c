import Chunking
import Hashing
import Multiformats
import Blocks

/// The figures of one input and chunker as its chunks go by: distribution, histogram, dedup
/// within the input and against the earlier ones.
struct ChunkTally {
    var row: ChunkerBenchRow
    /// The keys of the earlier inputs (with `versions`).
    let earlier: Set<ChunkKey>?
    private(set) var current = Set<ChunkKey>()
    private var lengths: [Int32] = []
    private var statistics = ChunkStatistics()

    init(row: ChunkerBenchRow, earlier: Set<ChunkKey>?) {
        self.row = row
        self.earlier = earlier
    }

    mutating func add(length: Int, key: ChunkKey) {
        statistics.add(length)
        lengths.append(Int32(length))
        row.histogram[Swift.min(ChunkerBenchRow.histogramClasses - 1, Int.bitWidth - 1 - length.leadingZeroBitCount)] += 1
        let inEarlier = earlier?.contains(key) ?? false
        if inEarlier { row.seenBytes += length }
        if current.insert(key).inserted {
            row.uniqueBytes += length
            if !inEarlier { row.newBytes += length }
        }
    }

    /// The finished row (the distribution filled in).
    mutating func finish() -> ChunkerBenchRow {
        row.setDistribution(&lengths, statistics: statistics)
        return row
    }
}

/// The importer's sink for the bench (directory inputs): keeps nothing, counts every block,
/// and tallies every leaf. The importer hands a dag-pb leaf over as its chunk (`body`) between
/// its UnixFS framing (`prefix`, `suffix`); internal nodes (and the node of an empty file) come
/// as one segment. A leaf's key is its chunk's ``ChunkKey``, as for every other input.
struct TallySink: BlockSink {
    var tally: ChunkTally
    let progress: (@Sendable (Int) -> Void)?
    var blocks = 0
    private var unreported = 0

    init(tally: ChunkTally, progress: (@Sendable (Int) -> Void)?) {
        self.tally = tally
        self.progress = progress
    }

    var wantsBytes: Bool { false }

    mutating func put(_ cid: CID, _ bytes: BlockBytes) {
        blocks += 1
        guard !bytes.prefix.isEmpty else { return }
        let length = bytes.body.count
        tally.add(length: length, key: ChunkKey(chunk: bytes.body))
        tally.row.bytes += length
        unreported += length
        if unreported >= 4 << 20 { flushProgress() }
    }

    mutating func flushProgress() {
        if unreported > 0 { progress?(unreported) }
        unreported = 0
    }
}

/// The dedup key of a chunk: its ``Key128`` (spec/cli.md, "Dedup key").
struct ChunkKey: Hashable {
    var high: UInt64
    var low: UInt64

    init(chunk: UnsafeRawBufferPointer) {
        (high, low) = Key128.hash(chunk)
    }
}
