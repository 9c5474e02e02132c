import CairnTestSupport
import Chunking
import Testing

/// The parallel chunker against the shared vectors and against the serial chunker
/// (spec/chunking.md, "Parallel chunking"): its cut points must be exactly the serial ones.
@Suite struct ParallelChunkerTests {
    /// All ends of `bytes`, cut by the parallel chunker in calls of at most `window` bytes, with
    /// segment starts chosen by `segments(start, limit)`.
    static func parallelEnds(
        _ finder: Chunker, _ bytes: [UInt8], threads: Int = 2, window: Int? = nil,
        statistics: inout ParallelChunkingStatistics,
        segments: ((Int, Int) -> [Int])? = nil
    ) -> [Int] {
        let chunker = ParallelChunker(finder: finder, threads: threads)
        var ends: [Int] = []
        bytes.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count {
                let limit = min(raw.count, start + (window ?? raw.count))
                let starts = segments?(start, limit)
                let part = chunker.cuts(in: raw, from: start, to: limit, segmentStarts: starts, statistics: &statistics)
                ends += part
                start = part.last!
            }
        }
        return ends
    }

    static func serialEnds(_ finder: Chunker, _ bytes: [UInt8]) -> [Int] {
        var ends: [Int] = []
        bytes.withUnsafeBytes { raw in finder.forEachChunk(in: raw) { offset, chunk in ends.append(offset + chunk.count) } }
        return ends
    }

    /// Segment starts every `length` bytes from the range start.
    static func every(_ length: Int) -> (Int, Int) -> [Int] {
        { start, limit in Array(stride(from: start, to: limit, by: length)) }
    }

    static let rows: [[String: String]] = (try? Vectors.tsv("chunks.tsv")) ?? []

    /// Every row of chunks.tsv through the parallel path: count and sha256 of the boundary list.
    @Test(arguments: [100_003, 1 << 20, 3_333_333, 0])
    func vectorsThroughParallelPath(segmentLength: Int) throws {
        #expect(Self.rows.count == 254)
        var statistics = ParallelChunkingStatistics()
        for row in Self.rows {
            let input = InputCache.input(row["input"]!)
            let spec = try ChunkerSpec(parsing: row["spec"]!)
            // 0: the default split (guided: one or more segments per thread), in windows of 8 MiB like the importer.
            let ends = segmentLength == 0
                ? Self.parallelEnds(spec.makeChunker(), input, window: 8 << 20, statistics: &statistics)
                : Self.parallelEnds(spec.makeChunker(), input, statistics: &statistics, segments: Self.every(segmentLength))
            var list = ""
            var previous = 0
            for end in ends {
                list += "\(previous) \(end - previous)\n"
                previous = end
            }
            #expect(ends.count == Int(row["count"]!), "\(row["input"]!) \(row["spec"]!)")
            #expect(TestSHA256.hex(list.utf8) == row["sha256_of_list"], "\(row["input"]!) \(row["spec"]!)")
        }
        if segmentLength == 100_003 { #expect(statistics.resynchronised > 100) }
    }

    // MARK: Randomised against the serial chunker

    enum Kind: CaseIterable { case random, zeros, periodic, zeroRuns, constant, lowEntropy }

    /// A seeded adversarial or random input.
    static func input(_ kind: Kind, count: Int, _ random: inout SplitMix64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        switch kind {
        case .random:
            for i in 0..<count { bytes[i] = UInt8(truncatingIfNeeded: random.next()) }
        case .zeros:
            break
        case .periodic:
            let period = Int(random.next() % 3000) + 1
            var pattern: [UInt8] = []
            for _ in 0..<period { pattern.append(UInt8(truncatingIfNeeded: random.next())) }
            for i in 0..<count { bytes[i] = pattern[i % period] }
        case .zeroRuns:
            var i = 0
            while i < count {
                let run = Int(random.next() % 5000) + 1
                let zero = random.next() & 1 == 0
                for j in i..<min(count, i + run) { bytes[j] = zero ? 0 : UInt8(truncatingIfNeeded: random.next()) }
                i += run
            }
        case .constant:
            let value = UInt8(truncatingIfNeeded: random.next())
            for i in 0..<count { bytes[i] = value }
        case .lowEntropy:
            for i in 0..<count { bytes[i] = UInt8(truncatingIfNeeded: random.next() % 3) }
        }
        return bytes
    }

    /// Segment starts in `start ..< limit`: random, or placed on serial cuts and on the minimum-
    /// size edges after them (cut + min − 1, cut + min, cut + min + 1), or on cut + max.
    static func segmentStarts(
        _ start: Int, _ limit: Int, serial: [Int], minimum: Int, maximum: Int, _ random: inout SplitMix64
    ) -> [Int] {
        var points: Set<Int> = [start]
        let wanted = Int(random.next() % 8)
        let cutsInside = serial.filter { $0 > start && $0 < limit }
        for _ in 0..<wanted {
            let mode = random.next() % 4
            if mode == 0 || cutsInside.isEmpty {
                points.insert(start + Int(random.next() % UInt64(limit - start)))
            } else {
                let cut = cutsInside[Int(random.next() % UInt64(cutsInside.count))]
                let offsets = [0, minimum - 1, minimum, minimum + 1, maximum]
                let point = cut + (mode == 1 ? 0 : offsets[Int(random.next() % UInt64(offsets.count))])
                if point < limit { points.insert(point) }
            }
        }
        return points.sorted()
    }

    static func minimum(of chunker: Chunker) -> Int {
        switch chunker {
        case .fixed(let c): return c.size
        case .rabin(let c): return c.minimum
        case .buzhash: return 131_072
        case .fastCDC(let c): return c.minimum
        }
    }

    static func randomised(specs: [String], cases: Int, largest: Int, seed: UInt64) throws -> ParallelChunkingStatistics {
        var random = SplitMix64(seed: seed)
        var statistics = ParallelChunkingStatistics()
        let finders = try specs.map { try ChunkerSpec(parsing: $0).makeChunker() }
        for n in 0..<cases {
            let finder = finders[n % finders.count]
            let kind = Kind.allCases[Int(random.next() % UInt64(Kind.allCases.count))]
            let count = Int(random.next() % UInt64(largest + 1))
            let bytes = input(kind, count: count, &random)
            let serial = serialEnds(finder, bytes)
            let window = random.next() & 1 == 0 ? nil : Int(random.next() % UInt64(max(1, count))) + 1
            var segmentRandom = SplitMix64(seed: random.next())
            let minimum = minimum(of: finder), maximum = finder.maximumChunkLength
            let threads = Int(random.next() % 3) + 1
            let ends = parallelEnds(finder, bytes, threads: threads, window: window, statistics: &statistics) { start, limit in
                segmentStarts(start, limit, serial: serial, minimum: minimum, maximum: maximum, &segmentRandom)
            }
            #expect(ends == serial, "case \(n): \(specs[n % specs.count]) \(kind) \(count) bytes, window \(window ?? 0)")
            if ends != serial { break }
        }
        return statistics
    }

    @Test func smallChunkersAgainstSerial() throws {
        let specs = [
            "fastcdc-64-256-1024-0", "fastcdc-64-256-1024-1", "fastcdc-64-256-1024-2", "fastcdc-64-256-1024-3",
            "fastcdc-256-1024-4096-1", "rabin-16-64-256", "rabin-32-128-512", "size-1000",
        ]
        let statistics = try Self.randomised(specs: specs, cases: 4000, largest: 40_000, seed: 16)
        #expect(statistics.resynchronised > 1000)
        #expect(statistics.serialBytes > 0)  // some segments never met the true sequence
    }

    @Test func kuboChunkersAgainstSerial() throws {
        let statistics = try Self.randomised(
            specs: ["buzhash", "rabin", "fastcdc", "fastcdc-16384-65536-262144-2"], cases: 48, largest: 3 << 20, seed: 1616)
        #expect(statistics.resynchronised > 20)
    }

    /// The default split (spec/chunking.md, Parallel chunking): one segment on one thread; on
    /// several, each segment a 1 / (threads + 1) share of what is left, at least the minimum
    /// length, the last one the rest.
    @Test func defaultSegments() throws {
        let chunker = ParallelChunker(finder: try ChunkerSpec(parsing: "fastcdc").makeChunker(), threads: 4)
        let mib = 1 << 20
        #expect(chunker.minimumSegmentLength == 16 * mib)
        #expect(chunker.segmentStarts(from: 0, to: 10 * mib) == [0])
        #expect(chunker.segmentStarts(from: 0, to: 31 * mib) == [0])
        #expect(chunker.segmentStarts(from: 8, to: 8 + 64 * mib) == [8, 8 + 16 * mib, 8 + 32 * mib, 8 + 48 * mib])
        let one = ParallelChunker(finder: try ChunkerSpec(parsing: "fastcdc").makeChunker(), threads: 1)
        #expect(one.segmentStarts(from: 0, to: 1024 * mib) == [0])
        let three = ParallelChunker(finder: try ChunkerSpec(parsing: "fastcdc").makeChunker(), threads: 3)
        // 1 GiB on three threads: a quarter of what is left each time, then 16 MiB twice, then the rest.
        let lengths: [Double] = [256, 192, 144, 108, 81, 60.75, 45.5625, 34.171875, 25.62890625, 19.2216796875, 16, 16]
        var expected = [0]
        for length in lengths { expected.append(expected.last! + Int(length * Double(mib))) }
        #expect(three.segmentStarts(from: 0, to: 1024 * mib) == expected)
        #expect(1024 * mib - expected.last! >= 16 * mib && 1024 * mib - expected.last! < 32 * mib)
    }
}
