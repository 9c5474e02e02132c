/// boxo's rabin chunker (`chunker.NewRabinMinMax`, built on whyrusleeping/chunker), bit-exact.
///
/// The fingerprint is the Rabin fingerprint of the last 16 bytes (a polynomial over GF(2) reduced
/// modulo ``polynomial``). Each chunk restarts the hash, and the first `minimum − 16` bytes of a
/// chunk are never hashed. The cut is after the first byte at chunk length `L ≥ minimum` whose
/// window fingerprint has its low `log2(average)` bits zero; at `maximum` the chunk is cut
/// anyway, and at the end of the input the rest is the last chunk.
///
/// Equivalently: the chunk length is the smallest `L` in `[minimum, maximum)` with
/// `fp(bytes[L−16 ..< L]) & mask == 0`, else `maximum` (or what is left, if less).
///
/// The scan runs four independent hash lanes over four sub-ranges of each block (the fingerprint
/// depends on the last 16 bytes only, so each lane starts fresh 16 bytes before its range); this
/// hides the latency of the table-driven update, and the lowest hit wins.
public struct RabinChunker: ChunkBoundaryFinder, Hashable {
    /// Kubo's polynomial, `IpfsRabinPoly` = 17437180132763653 (degree 53).
    public static let polynomial: UInt64 = 0x3D_F305_DFB2_A805
    /// The rolling window: 16 bytes.
    public static let windowLength = 16

    public let minimum: Int
    public let average: Int
    public let maximum: Int
    /// `2^floor(log2(average)) − 1`: the fingerprint bits that must be zero at a cut.
    public let mask: UInt64

    /// - Precondition: `16 ≤ minimum ≤ maximum`, `average ≥ 1` (the spec parser enforces Kubo's rules).
    public init(minimum: Int, average: Int, maximum: Int) {
        precondition(minimum >= Self.windowLength, "rabin minimum must be at least 16")
        precondition(maximum >= minimum && average >= 1, "rabin sizes out of order")
        self.minimum = minimum
        self.average = average
        self.maximum = maximum
        let bits = UInt64.bitWidth - 1 - UInt64(average).leadingZeroBitCount
        self.mask = (1 << UInt64(bits)) &- 1
    }

    /// boxo's `rabin-AVG` derivation: minimum = AVG/3, maximum = AVG + AVG/2.
    public init(average: Int) {
        self.init(minimum: average / 3, average: average, maximum: average + average / 2)
    }

    @inlinable public var maximumChunkLength: Int { maximum }

    public func nextCut(in window: UnsafeRawBufferPointer) -> Int {
        let n = window.count
        guard n > minimum, let raw = window.baseAddress else { return n }
        let limit = Swift.min(n, maximum)
        guard minimum < limit else { return limit }
        let p = raw.assumingMemoryBound(to: UInt8.self)
        let tables = RabinTables.kubo
        return Self.scan(p, from: minimum, to: limit, mask: mask, mod: tables.mod, out: tables.out) ?? limit
    }

    // MARK: - Hot loops

    /// One byte in (`inByte`), one byte out (`outByte`, the byte 16 positions earlier).
    @inline(__always)
    static func roll(_ d: UInt64, _ inByte: UInt8, _ outByte: UInt8, _ mod: UnsafePointer<UInt64>, _ out: UnsafePointer<UInt64>) -> UInt64 {
        ((d &<< 8) | UInt64(inByte)) ^ mod[Int(truncatingIfNeeded: d &>> 45)] ^ out[Int(outByte)]
    }

    /// The fingerprint of the 16 bytes that end just before `p + end`.
    @inline(__always)
    static func fingerprint(_ p: UnsafePointer<UInt8>, endingAt end: Int, _ mod: UnsafePointer<UInt64>) -> UInt64 {
        var d: UInt64 = 0
        var q = end - 16
        while q < end {
            d = ((d &<< 8) | UInt64(p[q])) ^ mod[Int(truncatingIfNeeded: d &>> 45)]
            q += 1
        }
        return d
    }

    /// The smallest chunk length `L` in `[from, to)` that is a cut, if any; a single lane.
    @inline(__always)
    static func scanSequential(
        _ p: UnsafePointer<UInt8>, from: Int, to: Int, mask: UInt64,
        mod: UnsafePointer<UInt64>, out: UnsafePointer<UInt64>
    ) -> Int? {
        guard from < to else { return nil }
        var d = fingerprint(p, endingAt: from, mod)
        var length = from
        while true {
            if d & mask == 0 { return length }
            length += 1
            if length == to { return nil }
            d = roll(d, p[length - 1], p[length - 17], mod, out)
        }
    }

    /// Continues a lane whose fingerprint at `length` is `d` (already tested) up to `to`.
    @inline(__always)
    static func continueLane(
        _ p: UnsafePointer<UInt8>, d start: UInt64, after length: Int, to: Int, mask: UInt64,
        mod: UnsafePointer<UInt64>, out: UnsafePointer<UInt64>
    ) -> Int? {
        var d = start
        var l = length + 1
        while l < to {
            d = roll(d, p[l - 1], p[l - 17], mod, out)
            if d & mask == 0 { return l }
            l += 1
        }
        return nil
    }

    @usableFromInline static let laneSegment = 8192
    @usableFromInline static let lanes = 4

    static func scan(
        _ p: UnsafePointer<UInt8>, from: Int, to: Int, mask: UInt64,
        mod: UnsafePointer<UInt64>, out: UnsafePointer<UInt64>
    ) -> Int? {
        var position = from
        while to - position >= lanes * 256 {
            let segment = Swift.min(laneSegment, (to - position) / lanes)
            let a0 = position, a1 = a0 + segment, a2 = a1 + segment, a3 = a2 + segment
            var d0 = fingerprint(p, endingAt: a0, mod)
            var d1 = fingerprint(p, endingAt: a1, mod)
            var d2 = fingerprint(p, endingAt: a2, mod)
            var d3 = fingerprint(p, endingAt: a3, mod)
            var j = 0
            while true {
                // (x − 1) has its top bit set exactly when x == 0 (x < 2^63): one branch for four tests.
                let any = ((d0 & mask) &- 1) | ((d1 & mask) &- 1) | ((d2 & mask) &- 1) | ((d3 & mask) &- 1)
                if Int64(bitPattern: any) < 0 { break }
                j += 1
                if j == segment { break }
                d0 = roll(d0, p[a0 + j - 1], p[a0 + j - 17], mod, out)
                d1 = roll(d1, p[a1 + j - 1], p[a1 + j - 17], mod, out)
                d2 = roll(d2, p[a2 + j - 1], p[a2 + j - 17], mod, out)
                d3 = roll(d3, p[a3 + j - 1], p[a3 + j - 17], mod, out)
            }
            if j < segment {
                // Some lane hit at step j; lower lanes may still hit later in their own ranges.
                if d0 & mask == 0 { return a0 + j }
                if let hit = continueLane(p, d: d0, after: a0 + j, to: a1, mask: mask, mod: mod, out: out) { return hit }
                if d1 & mask == 0 { return a1 + j }
                if let hit = continueLane(p, d: d1, after: a1 + j, to: a2, mask: mask, mod: mod, out: out) { return hit }
                if d2 & mask == 0 { return a2 + j }
                if let hit = continueLane(p, d: d2, after: a2 + j, to: a3, mask: mask, mod: mod, out: out) { return hit }
                return a3 + j
            }
            position = a3 + segment
        }
        return scanSequential(p, from: position, to: to, mask: mask, mod: mod, out: out)
    }
}

/// The two 256-entry tables of the table-driven Rabin update for Kubo's polynomial.
///
/// - `mod[b] = ((b · x^53) mod P) | (b << 53)`: folds the 8 bits that a left shift by 8 pushes
///   above degree 52 back into the residue (and clears them).
/// - `out[b] = (b · x^128) mod P`: the contribution of a byte 16 positions back, removed after the
///   new byte is appended.
final class RabinTables: @unchecked Sendable {  // immutable after init, never freed
    let mod: UnsafePointer<UInt64>
    let out: UnsafePointer<UInt64>
    /// whyrusleeping/chunker's own out table, `(b · x^120) mod P` (removal before the append);
    /// kept for the checks against the values quoted in kubo-import-semantics.md.
    let outBeforeAppend: [UInt64]

    static let kubo = RabinTables(polynomial: RabinChunker.polynomial, window: RabinChunker.windowLength)

    init(polynomial: UInt64, window: Int) {
        let degree = UInt64.bitWidth - 1 - polynomial.leadingZeroBitCount
        func reduce(_ x: UInt64) -> UInt64 {
            var x = x
            while x != 0 {
                let d = UInt64.bitWidth - 1 - x.leadingZeroBitCount
                if d < degree { break }
                x ^= polynomial << UInt64(d - degree)
            }
            return x
        }
        func times256(_ x: UInt64, _ count: Int) -> UInt64 {
            var x = x
            for _ in 0..<count { x = reduce(x << 8) }
            return x
        }
        let mod = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
        let out = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
        var before: [UInt64] = []
        for b in 0..<256 {
            let value = UInt64(b)
            mod[b] = reduce(value << UInt64(degree)) | (value << UInt64(degree))
            out[b] = times256(value, window)
            before.append(times256(value, window - 1))
        }
        self.mod = UnsafePointer(mod)
        self.out = UnsafePointer(out)
        self.outBeforeAppend = before
    }
}
