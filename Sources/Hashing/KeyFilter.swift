/// A fixed-size Bloom filter over keys (byte strings): `mayContain` is never false for a key
/// that was inserted, and for one that was not it is true only rarely, so the common "not seen"
/// case of a set kept on disk is answered in memory, without a query or a read.
///
/// 2^24 bits (2 MiB, allocated on the first insert), 4 probes from two SipHash values (double
/// hashing). False positives: about 1 in 500 at a million keys, 1 in 7 at four million; a
/// false positive costs only the look-up the filter would have saved, never a wrong answer.
public struct KeyFilter: Sendable {
    static let bitCount = 1 << 24
    static let probes = 4
    private var words: [UInt64] = []

    public init() {}

    public mutating func insert(_ key: UnsafeRawBufferPointer) {
        if words.isEmpty { words = Array(repeating: 0, count: Self.bitCount / 64) }
        let (a, b) = Self.hashes(of: key)
        for i in 0..<UInt64(Self.probes) {
            let bit = Self.bit(a, b, i)
            words[bit >> 6] |= 1 << UInt64(bit & 63)
        }
    }

    public func mayContain(_ key: UnsafeRawBufferPointer) -> Bool {
        guard !words.isEmpty else { return false }
        let (a, b) = Self.hashes(of: key)
        for i in 0..<UInt64(Self.probes) {
            let bit = Self.bit(a, b, i)
            if words[bit >> 6] & (1 << UInt64(bit & 63)) == 0 { return false }
        }
        return true
    }

    /// Forgets every key (and the memory).
    public mutating func removeAll() { words = [] }

    /// Probe `i` of a key whose two hashes are `a` and `b`.
    private static func bit(_ a: UInt64, _ b: UInt64, _ i: UInt64) -> Int {
        Int((a &+ i &* b) & UInt64(bitCount - 1))
    }

    private static func hashes(of key: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        var first = Hasher(), second = Hasher()
        first.combine(0 as UInt8)
        second.combine(1 as UInt8)
        first.combine(bytes: key)
        second.combine(bytes: key)
        return (UInt64(bitPattern: Int64(first.finalize())), UInt64(bitPattern: Int64(second.finalize())) | 1)
    }
}
