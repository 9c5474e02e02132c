/// FastCDC 2020 exactly as the `fastcdc` crate's `v2020::cut` (and pyfastcdc 0.3.1) cuts.
///
/// Gear hash `h = (h << 1) + GEAR[byte]` (64-bit), started at 0 at the first hashed byte, which is
/// byte `⌊minimum/2⌋·2` of the chunk. With `remaining = min(bytes left, maximum)`,
/// `center = min(average, remaining)`: byte `i` (0-based in the chunk) for `i` in
/// `[⌊minimum/2⌋·2, ⌊remaining/2⌋·2)` is hashed and tested against `maskS` while
/// `i < ⌊center/2⌋·2` and against `maskL` after; the first `i` whose hash has all mask bits zero
/// gives a chunk of length `i` (the byte that completed the match starts the next chunk — the
/// crate's "two bytes per step" loop returns the index of the tested byte). With no match the
/// chunk is `remaining` long; if at most `minimum` bytes are left they are one chunk.
///
/// `maskS = MASKS[log2(average) + level]`, `maskL = MASKS[log2(average) − level]` where `log2`
/// rounds to nearest and `MASKS` is the crate's table of spread-out bit masks.
///
/// The scan runs four (then two) hash lanes over sub-ranges of each block: the masked bits of the gear
/// hash depend on the last 48 bytes only, so a lane warms up on the 48 bytes before its range
/// (never before the first hashed byte) and then agrees with the single-pass hash on every test.
public struct FastCDCChunker: ChunkBoundaryFinder, Hashable {
    public let minimum: Int
    public let average: Int
    public let maximum: Int
    public let normalization: Int
    public let maskS: UInt64
    public let maskL: UInt64

    /// - Precondition: the crate's bounds (see ``ChunkerSpec/FastCDCBounds``), `minimum ≤ average ≤ maximum`.
    public init(minimum: Int, average: Int, maximum: Int, normalization: Int = 1) {
        precondition(ChunkerSpec.FastCDCBounds.minimum.contains(minimum), "fastcdc minimum out of range")
        precondition(ChunkerSpec.FastCDCBounds.average.contains(average), "fastcdc average out of range")
        precondition(ChunkerSpec.FastCDCBounds.maximum.contains(maximum), "fastcdc maximum out of range")
        precondition(ChunkerSpec.FastCDCBounds.normalization.contains(normalization), "fastcdc level out of range")
        self.minimum = minimum
        self.average = average
        self.maximum = maximum
        self.normalization = normalization
        let bits = Self.logarithm2(average)
        self.maskS = Self.masks[bits + normalization]
        self.maskL = Self.masks[bits - normalization]
    }

    /// `round(log2(value))`, the crate's `logarithm2` (`(value as f64).log2().round()`), computed
    /// exactly: round up when `value² ≥ 2^(2k+1)` for `k = ⌊log2 value⌋`.
    static func logarithm2(_ value: Int) -> Int {
        precondition(value > 0)
        let k = Int.bitWidth - 1 - value.leadingZeroBitCount
        // log2(v) ≥ k + 0.5  ⇔  v² ≥ 2^(2k+1)
        let square = value.multipliedFullWidth(by: value)
        let threshold = (2 * k + 1)
        let high = square.high, low = square.low
        let roundsUp: Bool
        if threshold >= 64 {
            roundsUp = high >= (1 << (threshold - 64))
        } else {
            roundsUp = high > 0 || low >= (UInt(1) << UInt(threshold))
        }
        return roundsUp ? k + 1 : k
    }

    @inlinable public var maximumChunkLength: Int { maximum }

    public func nextCut(in window: UnsafeRawBufferPointer) -> Int {
        let n = window.count
        guard n > minimum, let raw = window.baseAddress else { return n }
        let remaining = Swift.min(n, maximum)
        let center = Swift.min(average, remaining)
        let start = (minimum / 2) * 2
        let middle = (center / 2) * 2
        let end = (remaining / 2) * 2
        let p = raw.assumingMemoryBound(to: UInt8.self)
        let g = GearTable.combined
        if start < middle, let hit = Self.scan(p, first: start, from: start, to: middle, mask: maskS, g) {
            return hit
        }
        return Self.scan(p, first: start, from: Swift.max(start, middle), to: end, mask: maskL, g) ?? remaining
    }

    /// Every mask in ``masks`` lies below bit 48, and byte `i − k` only reaches bits ≥ `k` of the
    /// hash after byte `i`: the last 48 bytes decide every test.
    static let warmUpLength = 48

    /// The hash after byte `i − 1` for a range starting at `i`, rebuilt from at most
    /// ``warmUpLength`` bytes before `i` and never from before `first` (the first hashed byte).
    /// Its bits below 48 — all that the masks test — equal those of the single-pass hash.
    @inline(__always)
    static func warmHash(_ p: UnsafePointer<UInt8>, first: Int, before i: Int, _ g: UnsafePointer<UInt64>) -> UInt64 {
        var h: UInt64 = 0
        var q = Swift.max(first, i - warmUpLength)
        while q < i {
            h = (h &<< 1) &+ g[Int(p[q])]
            q += 1
        }
        return h
    }

    /// The crate's own shape, one lane, two bytes per step: `(h << 2) + 2·GEAR[a]` is tested with
    /// the mask shifted left by one, then `+ GEAR[b]` with the plain mask. Used for block tails and
    /// to finish a lane after a hit. `from` and `to` must have the same parity.
    @inline(__always)
    static func scanPairs(
        _ p: UnsafePointer<UInt8>, h start: UInt64, from: Int, to: Int, mask: UInt64,
        _ g: UnsafePointer<UInt64>
    ) -> Int? {
        var h = start
        var i = from
        let maskShifted = mask &<< 1
        while i < to {
            let even = (h &<< 2) &+ g[256 &+ Int(p[i])]
            if even & maskShifted == 0 { return i }
            h = even &+ g[Int(p[i + 1])]
            if h & mask == 0 { return i + 1 }
            i += 2
        }
        return nil
    }

    /// Two lanes over one block of `2 × segment` bytes at `a0`, each stepping two bytes at a time
    /// like the crate (`h = (h << 2) + 2·GEAR[a]`, tested with the shifted mask; `h += GEAR[b]`,
    /// tested with the plain mask). `segment` is even and a literal at every call site, so the lane
    /// offsets fold into the addressing. Returns the first hit, or nil.
    @inline(__always)
    static func laneBlock(
        _ p: UnsafePointer<UInt8>, first: Int, at a0: Int, segment: Int, mask: UInt64,
        _ g: UnsafePointer<UInt64>
    ) -> Int? {
        var h0 = warmHash(p, first: first, before: a0, g)
        var h1 = warmHash(p, first: first, before: a0 + segment, g)
        let maskShifted = mask &<< 1
        let q = p + a0
        var j = 0
        while j < segment {
            h0 = (h0 &<< 2) &+ g[256 &+ Int(q[j])]
            if h0 & maskShifted == 0 { break }
            h0 = h0 &+ g[Int(q[j + 1])]
            if h0 & mask == 0 { break }
            h1 = (h1 &<< 2) &+ g[256 &+ Int(q[j + segment])]
            if h1 & maskShifted == 0 { break }
            h1 = h1 &+ g[Int(q[j + 1 + segment])]
            if h1 & mask == 0 { break }
            j += 2
        }
        guard j < segment else { return nil }
        return resolveHit(p, first: first, at: a0, segment: segment, lanes: 2, step: j, mask: mask, g)
    }

    /// Four lanes over one block of `4 × segment` bytes at `a0`, like ``laneBlock`` with two:
    /// four independent hash chains keep more of the core's load and add units busy than the
    /// one-add-per-byte dependency of a single chain allows.
    @inline(__always)
    static func laneBlock4(
        _ p: UnsafePointer<UInt8>, first: Int, at a0: Int, segment: Int, mask: UInt64,
        _ g: UnsafePointer<UInt64>
    ) -> Int? {
        var h0 = warmHash(p, first: first, before: a0, g)
        var h1 = warmHash(p, first: first, before: a0 + segment, g)
        var h2 = warmHash(p, first: first, before: a0 + 2 * segment, g)
        var h3 = warmHash(p, first: first, before: a0 + 3 * segment, g)
        let maskShifted = mask &<< 1
        let q = p + a0
        var j = 0
        while j < segment {
            h0 = (h0 &<< 2) &+ g[256 &+ Int(q[j])]
            h1 = (h1 &<< 2) &+ g[256 &+ Int(q[j + segment])]
            h2 = (h2 &<< 2) &+ g[256 &+ Int(q[j + 2 * segment])]
            h3 = (h3 &<< 2) &+ g[256 &+ Int(q[j + 3 * segment])]
            if (h0 & maskShifted == 0) || (h1 & maskShifted == 0) || (h2 & maskShifted == 0) || (h3 & maskShifted == 0) { break }
            h0 = h0 &+ g[Int(q[j + 1])]
            h1 = h1 &+ g[Int(q[j + 1 + segment])]
            h2 = h2 &+ g[Int(q[j + 1 + 2 * segment])]
            h3 = h3 &+ g[Int(q[j + 1 + 3 * segment])]
            if (h0 & mask == 0) || (h1 & mask == 0) || (h2 & mask == 0) || (h3 & mask == 0) { break }
            j += 2
        }
        guard j < segment else { return nil }
        return resolveHit(p, first: first, at: a0, segment: segment, lanes: 4, step: j, mask: mask, g)
    }

    /// After a lane block stopped at step `j`: some lane hit at byte j or j + 1 of its range. Lanes
    /// below it passed both tests at j and may still hit later in their own (lower) ranges, so
    /// resolve lane by lane, rebuilding each lane's hash at j from its warm-up window. Kept out of
    /// line so that the block loop carries no induction variables for it.
    @inline(never)
    static func resolveHit(
        _ p: UnsafePointer<UInt8>, first: Int, at a0: Int, segment: Int, lanes: Int, step j: Int, mask: UInt64,
        _ g: UnsafePointer<UInt64>
    ) -> Int {
        for lane in 0..<lanes {
            let start = a0 + lane * segment
            let h = warmHash(p, first: first, before: start + j, g)
            if let i = scanPairs(p, h: h, from: start + j, to: start + segment, mask: mask, g) { return i }
        }
        preconditionFailure("a lane reported a hit that none has")
    }

    /// The first `i` in `[from, to)` whose hash (started at `first`) has the mask bits zero.
    /// `from` and `to` are even.
    static func scan(
        _ p: UnsafePointer<UInt8>, first: Int, from: Int, to: Int, mask: UInt64,
        _ g: UnsafePointer<UInt64>
    ) -> Int? {
        var position = from
        while to - position >= 4 * 2048 {
            if let hit = laneBlock4(p, first: first, at: position, segment: 2048, mask: mask, g) { return hit }
            position += 4 * 2048
        }
        while to - position >= 2 * 2048 {
            if let hit = laneBlock(p, first: first, at: position, segment: 2048, mask: mask, g) { return hit }
            position += 2 * 2048
        }
        while to - position >= 2 * 256 {
            if let hit = laneBlock(p, first: first, at: position, segment: 256, mask: mask, g) { return hit }
            position += 2 * 256
        }
        let h = warmHash(p, first: first, before: position, g)
        return scanPairs(p, h: h, from: position, to: to, mask: mask, g)
    }

    /// The crate's `MASKS` (nlfiedler/fastcdc-rs `src/v2020/mod.rs`; the same values in pyfastcdc
    /// 0.3.1 `cy/constants.pyx`): index = number of mask bits; entries 0…4 are unused padding. The
    /// 64 B … 128 KiB entries come from the FastCDC C reference (destor), the rest from
    /// restic-FastCDC, as the crate documents. Stored as data.
    public static let masks: [UInt64] = [
        0, 0, 0, 0, 0,
        0x0000_0000_0180_4110,  // 5: only reached with level 3
        0x0000_0000_0180_3110,  // 64 B
        0x0000_0000_1803_5100,  // 128 B
        0x0000_0018_0003_5300,  // 256 B
        0x0000_0190_0035_3000,  // 512 B
        0x0000_5900_0353_0000,  // 1 KiB
        0x0000_d900_0353_0000,  // 2 KiB
        0x0000_d901_0353_0000,  // 4 KiB
        0x0000_d903_0353_0000,  // 8 KiB
        0x0000_d903_1353_0000,  // 16 KiB
        0x0000_d90f_0353_0000,  // 32 KiB
        0x0000_d903_0353_7000,  // 64 KiB
        0x0000_d907_0353_7000,  // 128 KiB
        0x0000_d907_0753_7000,  // 256 KiB
        0x0000_d917_0753_7000,  // 512 KiB
        0x0000_d917_4753_7000,  // 1 MiB
        0x0000_d917_6753_7000,  // 2 MiB
        0x0000_d937_6753_7000,  // 4 MiB
        0x0000_d937_7753_7000,  // 8 MiB
        0x0000_d937_7757_7000,  // 16 MiB
        0x0000_db37_7757_7000,  // 25: only reached with level 3
    ]
}
