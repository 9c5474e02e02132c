public import Blocks
public import Multiformats

/// Where a name lives in a UnixFS HAMT shard (unixfs.md, HAMT directories): the bucket index
/// at a given depth and the link-name prefix of that bucket. Readers that look one name up
/// (`step`: the gateway's path resolution and `UnixFSReader.entry(named:in:)`) walk only the
/// shards on its route, not the whole HAMT.
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

    /// Where a name goes on from one shard: its entry, or the sub-shard to read next.
    public enum Step: Hashable, Sendable {
        /// The link named the bucket's prefix and the name.
        case entry(CID)
        /// The link named the bucket's prefix alone: the name lies below, if anywhere.
        case subShard(CID)
        /// Neither: the name is not in the HAMT.
        case absent
    }

    /// Where `name` goes on from a shard at `depth` with `fanout` buckets whose links are
    /// `links` (a bucket holds one link, an entry or a sub-shard). Nil when there is no bucket:
    /// `fanout` is not a power of two, or the key's 64 bits are used up.
    public static func step(to name: [UInt8], depth: Int, fanout: Int, in links: [PBLink]) -> Step? {
        guard let bucket = index(of: name, depth: depth, fanout: fanout) else { return nil }
        let prefix = prefix(bucket, fanout: fanout)
        let entry = prefix + name
        if let found = links.first(where: { $0.name == entry }) { return .entry(found.hash) }
        if let sub = links.first(where: { $0.name == prefix }) { return .subShard(sub.hash) }
        return .absent
    }

    /// A shard no reader can follow: the words are the same for the CLI's lookup and listing
    /// and for the gateway's path resolution.
    public struct ShardError: Error, Hashable, Sendable {
        public let message: String
    }

    /// The fanout of `shard`, a shard of the HAMT rooted at `root` (the root itself when
    /// `rootFanout` is nil), checked as every reader needs it: a power of two from 2 to 4096,
    /// names hashed with murmur3-x64-64 (0x22, the only function boxo reads), and below the root
    /// the root's own fanout (a name's bucket at each depth is read off its key at
    /// `depth × log2(fanout)` bits, as the builder and boxo write them, so a listing and a lookup
    /// see the same entries).
    public static func fanout(of data: UnixFSData, shard: CID, root: CID, rootFanout: Int? = nil) throws(ShardError) -> Int {
        guard let value = data.fanout, value >= 2, value <= 4096, value & (value - 1) == 0 else {
            throw ShardError(message: "HAMT shard \(shard) has an invalid fanout \(data.fanout.map(String.init) ?? "none")")
        }
        guard data.hashType == Multicodec.murmur3_x64_64.rawValue else {
            let named = data.hashType.map { "0x" + String($0, radix: 16) } ?? "none"
            throw ShardError(message: "HAMT shard \(shard) uses hash function \(named); only murmur3-x64-64 (0x22) is supported")
        }
        let fanout = Int(value)
        if let rootFanout, fanout != rootFanout {
            throw ShardError(message: "HAMT \(root) has shard \(shard) with fanout \(fanout), not the root's \(rootFanout)")
        }
        return fanout
    }
}
