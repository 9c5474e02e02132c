import Chunking
import Hashing
import Blocks

import CairnSystem

/// Chunks a contiguous region (a memory map or caller memory) in place: serially, or with the
/// parallel chunker (spec/chunking.md, "Parallel chunking"), which cuts each batch's bytes on
/// every thread before the batch is filled; the cut points are the same either way.
struct RegionProducer: ChunkProducer {
    let region: UnsafeRawBufferPointer
    let finder: Chunker
    let release: Bool
    let parallel: ParallelChunker<Chunker>?
    var position = 0
    var released = 0
    /// Ends of chunks cut in parallel and not handed out yet (`pendingIndex` onward).
    var pending: [Int] = []
    var pendingIndex = 0
    /// The parallel chunker's figures for this region.
    var statistics = ParallelChunkingStatistics()
    let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    /// Bytes each thread cuts per parallel range (the cut list of a range is kept until handed out).
    static let parallelBytesPerThread = 64 << 20

    init(_ region: UnsafeRawBufferPointer, finder: Chunker, release: Bool, parallelThreads: Int = 1) {
        self.region = region
        self.finder = finder
        self.release = release
        self.parallel = parallelThreads > 1 ? ParallelChunker(finder: finder, threads: parallelThreads) : nil
    }

    var chunksInParallel: Bool { parallel != nil }

    mutating func fill(_ batch: LeafBatch, limits: BatchLimits, framing: UnixFSType?) throws {
        batch.count = 0
        guard let base = region.baseAddress else { return }
        var bytes = 0
        while position < region.count && batch.count < limits.leaves && bytes < limits.bytes {
            let length = nextLength(base, batchBytes: limits.bytes)
            batch.append(UnsafeRawBufferPointer(start: base + position, count: length), framing: framing)
            position += length
            bytes += length
        }
    }

    /// The length of the chunk at `position`: the next pending parallel cut (cutting the next
    /// `batchBytes` in parallel when none is left), or the serial rule.
    private mutating func nextLength(_ base: UnsafeRawPointer, batchBytes: Int) -> Int {
        guard let parallel else {
            return finder.checkedCut(in: UnsafeRawBufferPointer(start: base + position, count: region.count - position))
        }
        if pendingIndex == pending.count {
            // Long ranges keep the bytes chunked twice (about one chunk per segment edge) small.
            let range = Swift.max(batchBytes, parallel.threads * RegionProducer.parallelBytesPerThread)
            pending = parallel.cuts(in: region, from: position, to: position + range, statistics: &statistics)
            pendingIndex = 0
        }
        let end = pending[pendingIndex]
        pendingIndex += 1
        return end - position
    }

    mutating func release(_ batch: LeafBatch) {
        guard release, batch.count > 0, let base = region.baseAddress else { return }
        let last = batch.inputs[batch.count - 1].body
        let end = (last.baseAddress! - base) + last.count
        let upTo = end / pageSize * pageSize
        if upTo > released {
            _ = madvise(UnsafeMutableRawPointer(mutating: base + released), upTo - released, Int32(MADV_DONTNEED))
            released = upTo
        }
    }
}
