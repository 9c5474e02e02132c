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
/// The scan is one hash chain stepping two bytes at a time like the crate; the `maskL` part
/// restarts from the 48 bytes before it (the masked bits depend on those only).
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

    /// The first `i` in `[from, to)` whose hash (started at `first`) has the mask bits zero, in the
    /// crate's own shape: one chain, two bytes per step — `(h << 2) + 2·GEAR[a]` tested with the mask
    /// shifted left by one, then `+ GEAR[b]` tested with the plain mask (spec/chunking.md proves
    /// the tests equal the byte-by-byte ones). `from` and `to` are even.
    ///
    /// The chain itself is `h ← (h << 2) + (2·GEAR[a] + GEAR[b])`: the sum of the two table
    /// entries does not depend on `h`, so each step waits for one `lea` instead of a shift and two
    /// additions. The even test takes `2·GEAR[a]` back out as `h − GEAR[b]`, reusing the `GEAR[b]`
    /// loaded for the sum. The sum goes through `⊕ veil`, zero at run time (two copies of the table
    /// agree) but unknown to the compiler: without it the compiler reassociates the additions and
    /// puts one of them back on the chain, or folds the test's value into it. Two table loads and
    /// two byte loads per step, not three and two: on cores with two load ports the loads were the
    /// bound (spec/chunking.md). Four steps per bounds check.
    static func scan(
        _ p: UnsafePointer<UInt8>, first: Int, from: Int, to: Int, mask: UInt64,
        _ g: UnsafePointer<UInt64>
    ) -> Int? {
        var h = warmHash(p, first: first, before: from, g)
        var i = from
        let maskShifted = mask &<< 1
        let veil = g[512] ^ g[0]
        while i &+ 8 <= to {
            if let hit = step(p, i, &h, g, veil, mask, maskShifted) { return hit }
            if let hit = step(p, i &+ 2, &h, g, veil, mask, maskShifted) { return hit }
            if let hit = step(p, i &+ 4, &h, g, veil, mask, maskShifted) { return hit }
            if let hit = step(p, i &+ 6, &h, g, veil, mask, maskShifted) { return hit }
            i &+= 8
        }
        while i < to {
            if let hit = step(p, i, &h, g, veil, mask, maskShifted) { return hit }
            i &+= 2
        }
        return nil
    }

    /// Bytes `i` and `i + 1` into `h`; the cut position if either test hits.
    @inline(__always)
    static func step(
        _ p: UnsafePointer<UInt8>, _ i: Int, _ h: inout UInt64, _ g: UnsafePointer<UInt64>,
        _ veil: UInt64, _ mask: UInt64, _ maskShifted: UInt64
    ) -> Int? {
        let gb = g[Int(p[i &+ 1])]
        h = (h &<< 2) &+ ((g[256 &+ Int(p[i])] &+ gb) ^ veil)
        if (h &- gb) & maskShifted == 0 { return i }
        if h & mask == 0 { return i &+ 1 }
        return nil
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
