import CairnSystem
import Synchronization

/// Content-defined chunking of one contiguous input on several threads, with exactly the cut
/// points of serial chunking (spec/chunking.md, "Parallel chunking").
///
/// The input range is split into segments. Phase 1 chunks every segment from its own start, on
/// its own thread: each gives a chain of *candidate* cut positions, up to the first one at or
/// past the next segment's start. Phase 2, also in parallel, walks on from the end of each chain
/// serially until a position coincides with a candidate of the next segment. Because every
/// ``ChunkBoundaryFinder`` is a pure function of the bytes from a chunk's start, the cut sequence
/// after a coinciding position is that segment's chain. The stitch (sequential and cheap) follows
/// the true sequence from the range start through the chains and walks; where a walk never
/// coincided inside a segment, it continues serially.
public struct ParallelChunker<Finder: ChunkBoundaryFinder>: Sendable {
    public let finder: Finder
    /// The most threads one call uses (the calling thread included).
    public let threads: Int

    public init(finder: Finder, threads: Int) {
        self.finder = finder
        self.threads = Swift.max(1, threads)
    }

    /// Segments shorter than this are not worth a thread: a segment should hold many chunks so
    /// that the bytes chunked twice (about one chunk per segment) stay a small share.
    public var minimumSegmentLength: Int { Swift.max(1 << 20, 16 * finder.maximumChunkLength) }

    /// Segment starts for `start ..< limit`. One thread: one segment. Several: segments of
    /// decreasing length, each a `1 / (threads + 1)` share of what is left but at least
    /// ``minimumSegmentLength`` (the last one the rest, under twice that), taken by the
    /// threads in order as they finish one ("guided self-scheduling"): the long first segments
    /// keep the edges (bytes chunked twice) few, the short last ones let the threads finish
    /// close together even when one core is slowed or one segment resynchronises late.
    public func segmentStarts(from start: Int, to limit: Int) -> [Int] {
        let minimum = minimumSegmentLength
        guard threads > 1, limit - start >= 2 * minimum else { return [start] }
        var starts: [Int] = []
        var position = start
        while limit - position >= 2 * minimum {
            starts.append(position)
            position += Swift.max(minimum, (limit - position) / (threads + 1))
        }
        starts.append(position)  // the rest: at least `minimum`, less than twice it
        return starts
    }

    /// The true chunk ends from `start` on: every cut in order, up to and including the first end
    /// at or past `limit` (or the end of `bytes`). `start` must be a true cut (0, or an end
    /// returned before). `segmentStarts` (increasing, the first equal to `start`, all below
    /// `limit`) overrides the default split; tests use it to place segment edges anywhere.
    /// `releasingPages` (for a memory map read once): each thread drops the whole pages of its
    /// segment from the map (`MADV_DONTNEED`) as soon as it has chunked it, so the page tables
    /// are torn down in parallel instead of by one thread after the range; a page read again
    /// (a walk or the stitch) is mapped again from the page cache.
    public func cuts(
        in bytes: UnsafeRawBufferPointer, from start: Int, to limit: Int, segmentStarts given: [Int]? = nil,
        releasingPages: Bool = false, statistics: inout ParallelChunkingStatistics
    ) -> [Int] {
        let count = bytes.count
        guard start < count else { return [] }
        let limit = Swift.min(Swift.max(limit, start + 1), count)
        let starts = given ?? segmentStarts(from: start, to: limit)
        precondition(starts.first == start && zip(starts, starts.dropFirst()).allSatisfy { $0 < $1 } && starts.last! < limit,
                     "segment starts must increase from the range start and stay below its limit")
        let segments = starts.count
        let chains = SharedSlots<[Int]>(count: segments)
        let walks = SharedSlots<Walk>(count: segments)
        let finder = finder
        let width = Swift.min(threads, segments)
        forEach(segments, width: width) { k in
            let end = k + 1 < segments ? starts[k + 1] : limit
            chains[k] = Self.chain(finder, bytes, from: starts[k], reaching: end, releasingPages: releasingPages)
            if releasingPages { Self.release(bytes, from: starts[k], to: end) }
        }
        forEach(segments - 1, width: width) { k in
            walks[k] = Self.walk(finder, bytes, from: chains[k].last!, against: chains[k + 1])
        }
        var ends = stitch(bytes, chains: chains, walks: walks, statistics: &statistics, starts: starts)
        if let last = ends.firstIndex(where: { $0 >= limit }) { ends.removeSubrange((last + 1)...) }
        statistics.segments += segments
        statistics.bytes += (ends.last ?? start) - start
        return ends
    }

    /// Follows the true sequence: a chain from a coinciding position on, then the walk out of it.
    private func stitch(
        _ bytes: UnsafeRawBufferPointer, chains: SharedSlots<[Int]>, walks: SharedSlots<Walk>,
        statistics: inout ParallelChunkingStatistics, starts: [Int]
    ) -> [Int] {
        var ends: [Int] = []
        var k = 0
        var index = 0  // the true sequence is at chains[k][index]
        while true {
            ends.append(contentsOf: chains[k][(index + 1)...])
            if k + 1 == chains.count { return ends }
            var walk = walks[k]
            while true {
                ends.append(contentsOf: walk.ends)
                k += 1
                if let coincided = walk.coincidedAt {
                    index = coincided
                    statistics.resynchronised += 1
                    statistics.resynchronisationBytes += chains[k][index] - starts[k]
                    break
                }
                // No coincidence within segment k: the walk has already covered it serially.
                statistics.serialBytes += Swift.max(0, walk.position - starts[k])
                if k + 1 == chains.count { return ends }
                walk = Self.walk(finder, bytes, from: walk.position, against: chains[k + 1])
            }
        }
    }

    /// Drops the whole pages of `bytes[from ..< to]` from the map (only those: a page shared
    /// with the bytes around the range may still be read).
    static func release(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) {
        advise(bytes, from: from, to: to, Int32(MADV_DONTNEED), wholePagesOnly: true)
    }

    /// `madvise(advice)` over the pages of `bytes[from ..< to]` (clipped to `bytes`): the pages
    /// wholly inside the range (`wholePagesOnly`), or every page the range touches.
    static func advise(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int, _ advice: Int32, wholePagesOnly: Bool) {
        let page = pageSize
        let base = Int(bitPattern: bytes.baseAddress!)
        let lower = base + Swift.max(0, from)
        let upper = base + Swift.min(to, bytes.count)
        guard lower < upper else { return }
        let first = wholePagesOnly ? (lower + page - 1) / page * page : lower / page * page
        let last = wholePagesOnly ? upper / page * page : (upper + page - 1) / page * page
        guard last > first else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: first), last - first, advice)
    }

    static var pageSize: Int { parallelChunkerPageSize }

    /// Chunk ends from `start` (included, as the chain's first position) up to the first at or
    /// past `end` (included), or the end of `bytes`.
    /// `releasingPages`: the pages behind the chain are dropped every ``releaseBytes`` on the way
    /// (a chunk only reads forward from its start), so a long segment keeps few pages mapped.
    static func chain(
        _ finder: Finder, _ bytes: UnsafeRawBufferPointer, from start: Int, reaching end: Int, releasingPages: Bool = false
    ) -> [Int] {
        var positions = [start]
        var position = start
        var released = start
        let base = bytes.baseAddress!
        // Ahead of the chain, but not past its segment: the pages after it are the next
        // segment's, which another thread maps (and may already have released).
        if releasingPages { populate(bytes, from: start, to: Swift.min(start + 2 * releaseBytes, end)) }
        while position < end && position < bytes.count {
            position += finder.checkedCut(in: UnsafeRawBufferPointer(start: base + position, count: bytes.count - position))
            positions.append(position)
            if releasingPages && position - released >= releaseBytes && position < end {
                release(bytes, from: released, to: position)
                released = position
                populate(bytes, from: position + releaseBytes, to: Swift.min(position + 2 * releaseBytes, end))
            }
        }
        return positions
    }

    /// Maps the pages of `bytes[from ..< to]` ahead of the chain in one call
    /// (`MADV_POPULATE_READ`, Linux 5.14; 22 in the kernel's headers) instead of a page fault
    /// per few pages; a kernel without it answers EINVAL and the faults happen as before.
    static func populate(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) {
        advise(bytes, from: from, to: to, 22, wholePagesOnly: false)
    }

    /// How far a chain gets between two releases of the pages behind it.
    static var releaseBytes: Int { 8 << 20 }

    /// Cuts serially from the true position `start` until a position is one of `chain`'s (the
    /// index is `coincidedAt`) or passes its last. `ends` are the positions after `start`.
    static func walk(_ finder: Finder, _ bytes: UnsafeRawBufferPointer, from start: Int, against chain: [Int]) -> Walk {
        var walk = Walk(position: start)
        var position = start
        var j = 0
        let base = bytes.baseAddress!
        while true {
            while j < chain.count && chain[j] < position { j += 1 }
            if j == chain.count { return walk }
            if chain[j] == position {
                walk.coincidedAt = j
                return walk
            }
            position += finder.checkedCut(in: UnsafeRawBufferPointer(start: base + position, count: bytes.count - position))
            walk.ends.append(position)
            walk.position = position
        }
    }

    /// Runs `body(0 ..< count)` on at most `width` threads (the calling thread alone for one;
    /// ``WorkerThreads``, not Dispatch: see there); the threads take the next index as they finish
    /// one, so a slow core delays no other.
    private func forEach(_ count: Int, width: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        if width <= 1 || count == 1 {
            for k in 0..<count { body(k) }
            return
        }
        let next = Atomic<Int>(0)
        WorkerThreads.run(Swift.min(width, count)) { _ in
            while true {
                let k = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if k >= count { return }
                body(k)
            }
        }
    }
}

/// The page size, read once (a generic type cannot hold a static stored property).
private let parallelChunkerPageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

/// The serial continuation out of one segment's chain.
struct Walk: Sendable {
    /// Where the walk stands: its start, or its last end.
    var position: Int
    var ends: [Int] = []
    /// The index in the next segment's chain of the position where the walk met it, if it did.
    var coincidedAt: Int? = nil
}

/// The method's own figures, summed over calls.
public struct ParallelChunkingStatistics: Sendable, Hashable {
    /// Segments chunked (one per thread per call, fewer for short ranges).
    public var segments = 0
    /// Segment edges where the true sequence met the segment's own chain.
    public var resynchronised = 0
    /// Summed over those edges: bytes from the segment start to the first true cut that is also
    /// one of the segment's candidates. These bytes were chunked twice (the repeated work).
    public var resynchronisationBytes = 0
    /// Bytes of segments the true sequence never met, chunked serially at the stitch.
    public var serialBytes = 0
    /// Bytes cut in all.
    public var bytes = 0

    public init() {}

    /// Mean resynchronisation distance in bytes (0 when no edge resynchronised).
    public var meanResynchronisationBytes: Double {
        resynchronised == 0 ? 0 : Double(resynchronisationBytes) / Double(resynchronised)
    }
}

/// Fixed slots written by distinct threads (each slot by one), read after the threads joined.
final class SharedSlots<Element>: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<Element?>
    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }
    deinit {
        slots.deinitialize()
        slots.deallocate()
    }
    var count: Int { slots.count }
    subscript(index: Int) -> Element {
        get { slots[index]! }
        set { slots[index] = newValue }
    }
}
