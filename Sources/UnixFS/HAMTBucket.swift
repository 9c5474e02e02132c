/// Where a name lives in a UnixFS HAMT shard (unixfs.md, HAMT directories): the bucket index
/// at a given depth and the link-name prefix of that bucket. Readers that look one name up
/// (the gateway's path resolution) walk only the shards on its route, not the whole HAMT.
public enum HAMTBucket {
    /// The bucket of `name` in a shard at `depth` (0 for the root shard) with `fanout`
    /// buckets (a power of two): the `log2(fanout)` bits of the name's murmur3-x64-64 key
    /// that this depth consumes, most significant first. Nil once the 64 key bits are used up.
    public static func index(of name: [UInt8], depth: Int, fanout: Int) -> Int? {
        let bits = fanout.trailingZeroBitCount
        guard fanout > 1, fanout & (fanout - 1) == 0, (depth + 1) * bits <= 64 else { return nil }
        let key = Murmur3.hamtKey(name)
        return Int((key >> UInt64(64 - (depth + 1) * bits)) & UInt64(fanout - 1))
    }

    /// The link-name prefix of `bucket` in a shard with `fanout` buckets: upper-case hex,
    /// zero-padded to the width of `fanout - 1`.
    public static func prefix(_ bucket: Int, fanout: Int) -> [UInt8] {
        let width = String(fanout - 1, radix: 16).count
        let digits = String(bucket, radix: 16, uppercase: true)
        return Array((String(repeating: "0", count: max(0, width - digits.count)) + digits).utf8)
    }
}
