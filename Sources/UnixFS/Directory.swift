import Hashing
public import Multiformats
public import Blocks

/// How a directory's size is estimated against the HAMT threshold
/// (`Import.UnixFSHAMTDirectorySizeEstimation`; kubo-import-semantics.md §5.2).
public enum DirectorySizeEstimation: String, Hashable, Sendable, CaseIterable {
    /// Σ (len(name) + len(CID bytes)) over the entries (Kubo's default, profile unixfs-v0-2015).
    case links
    /// The exact length of the would-be basic directory block (profile unixfs-v1-2025).
    case block
    /// Size is ignored; only `maxLinks` can make a HAMT.
    case disabled
}

/// When a directory becomes a HAMT, and the HAMT's shape.
public struct DirectoryParameters: Hashable, Sendable {
    public static let defaultThreshold = 262_144
    public static let defaultFanout = 256

    /// `Import.UnixFSHAMTDirectorySizeThreshold`: shard when the estimate is **above** this
    /// (Kubo ≥ 0.40 / boxo ≥ 0.37 compare with `>`). 0 turns every switch off.
    public var hamtThreshold: Int
    public var estimation: DirectorySizeEstimation
    /// `--max-directory-links`: shard when a directory has more entries (0 = no limit).
    public var maxLinks: Int
    /// `--max-hamt-fanout`: a power of two, multiple of 8, at most 1024.
    public var hamtFanout: Int

    public init(hamtThreshold: Int = DirectoryParameters.defaultThreshold, estimation: DirectorySizeEstimation = .links,
                maxLinks: Int = 0, hamtFanout: Int = DirectoryParameters.defaultFanout) {
        self.hamtThreshold = hamtThreshold
        self.estimation = estimation
        self.maxLinks = maxLinks
        self.hamtFanout = hamtFanout
    }

    public static let kuboDefault = DirectoryParameters()

    public func validate() throws(ImportOptionsError) {
        guard hamtFanout >= 8, hamtFanout <= 1024, hamtFanout & (hamtFanout - 1) == 0 else {
            throw ImportOptionsError(.invalidValue, "max-hamt-fanout must be a power of two between 8 and 1024, got \(hamtFanout)")
        }
        guard maxLinks >= 0 else { throw ImportOptionsError(.invalidValue, "max-directory-links must not be negative, got \(maxLinks)") }
        guard hamtThreshold >= 0 else { throw ImportOptionsError(.invalidValue, "HAMT threshold must not be negative, got \(hamtThreshold)") }
    }
}

/// UnixFS 1.5 metadata of one entry.
public struct UnixFSMetadata: Hashable, Sendable {
    public var mode: UInt32?
    public var mtime: UnixFSTime?

    public init(mode: UInt32? = nil, mtime: UnixFSTime? = nil) {
        self.mode = mode == 0 ? nil : mode
        self.mtime = mtime
    }

    public var isEmpty: Bool { mode == nil && mtime == nil }
}

/// Which metadata `ipfs add` writes (`--preserve-mode`, `--preserve-mtime`, `--mode`, `--mtime`;
/// kubo-import-semantics.md §6.4). Custom values win over preserved ones; symlinks never get a mode.
public struct MetadataPolicy: Hashable, Sendable {
    public var preserveMode: Bool
    public var preserveMtime: Bool
    /// `--mode`: applied to every file and directory.
    public var mode: UInt32?
    /// `--mtime` [+ `--mtime-nsecs`]: applied to every entry.
    public var mtime: UnixFSTime?

    public init(preserveMode: Bool = false, preserveMtime: Bool = false, mode: UInt32? = nil, mtime: UnixFSTime? = nil) {
        self.preserveMode = preserveMode
        self.preserveMtime = preserveMtime
        self.mode = mode
        self.mtime = mtime
    }

    public static let none = MetadataPolicy()

    public var isNone: Bool { !preserveMode && !preserveMtime && mode == nil && mtime == nil }

    /// The metadata of an entry whose file-system permission bits and mtime are given (nil for
    /// entries that have none, such as a `-w` wrapper).
    public func metadata(isSymlink: Bool, permissions: UInt32?, mtime fsTime: UnixFSTime?) -> UnixFSMetadata {
        var result = UnixFSMetadata()
        if !isSymlink {
            result.mode = mode ?? (preserveMode ? permissions : nil)
            if result.mode == 0 { result.mode = nil }
        }
        result.mtime = mtime ?? (preserveMtime ? fsTime : nil)
        return result
    }
}

/// One entry of a directory: all a directory keeps of its children.
public struct DirectoryEntry: Hashable, Sendable {
    /// The link name: the file name's bytes exactly as the file system gave them.
    public var name: [UInt8]
    public var cid: CID
    /// The child's cumulative size (its link's `Tsize`).
    public var tsize: UInt64

    public init(name: [UInt8], cid: CID, tsize: UInt64) {
        self.name = name
        self.cid = cid
        self.tsize = tsize
    }
}

/// Builds a directory from its entries as Kubo does: a basic directory (links sorted by name
/// bytes), or a HAMT when the size estimate is above the threshold or there are more than
/// `maxLinks` entries (kubo-import-semantics.md §5). Blocks go to the sink children first: each
/// sub-shard right before the shard that links it, the root last.
public struct DirectoryBuilder: Sendable {
    public let parameters: ImportParameters

    public init(parameters: ImportParameters) throws(ImportOptionsError) {
        try parameters.validate()
        self.parameters = parameters
    }

    /// Whether these entries make a HAMT (and with `metadata` on the root).
    public func isSharded(_ entries: [DirectoryEntry], metadata: UnixFSMetadata = UnixFSMetadata()) throws(ImportError) -> Bool {
        let rules = parameters.directory
        let tooMany = rules.maxLinks > 0 && entries.count > rules.maxLinks
        if rules.hamtThreshold == 0 {
            if tooMany {
                throw ImportError(.limitExceeded, "BasicDirectory: cannot add child: maxLinks (\(rules.maxLinks)) reached")
            }
            return false
        }
        if tooMany { return true }
        switch rules.estimation {
        case .disabled:
            return false
        case .links:
            var total = 0
            for entry in entries { total += entry.name.count + entry.cid.encodedLength }
            return total > rules.hamtThreshold
        case .block:
            return DirectoryBuilder.basicBlockLength(entries, metadata: metadata) > rules.hamtThreshold
        }
    }

    /// The exact length of the basic directory block over `entries`.
    public static func basicBlockLength(_ entries: [DirectoryEntry], metadata: UnixFSMetadata) -> Int {
        var total = Wire.bytesFieldSize(UnixFSData.directory(mode: metadata.mode, mtime: metadata.mtime).encodedLength)
        for entry in entries {
            total += PBLink(hash: entry.cid, name: entry.name, tsize: entry.tsize).encodedFieldLength
        }
        return total
    }

    /// Builds the directory, puts its blocks into `sink`, returns the root.
    /// `entries` need not be sorted; names must be distinct.
    public func build<Sink: BlockSink>(_ entries: [DirectoryEntry], metadata: UnixFSMetadata = UnixFSMetadata(),
                                       into sink: inout Sink) throws -> ImportResult {
        let factory = CIDFactory(parameters)
        var blocks = 0
        let root: ChildLink
        if try isSharded(entries, metadata: metadata) {
            let fanout = parameters.directory.hamtFanout
            let bits = fanout.trailingZeroBitCount
            // No sort here: each level orders its entries by (bucket, name) itself.
            let keyed = entries.map { (key: Murmur3.hamtKey($0.name), entry: $0) }
            root = try shard(keyed[...], depth: 0, bits: bits, fanout: fanout, metadata: metadata,
                             factory: factory, blocks: &blocks, into: &sink)
        } else {
            let links = entries.map { PBLink(hash: $0.cid, name: $0.name, tsize: $0.tsize) }
            root = try put(links: links, data: UnixFSData.directory(mode: metadata.mode, mtime: metadata.mtime),
                           factory: factory, blocks: &blocks, into: &sink)
        }
        return ImportResult(root: root.cid, size: root.tsize, fileSize: 0, blockCount: blocks)
    }

    /// The directory block of a node without entries' content: a symlink.
    public func symlink<Sink: BlockSink>(target: [UInt8], metadata: UnixFSMetadata = UnixFSMetadata(),
                                         into sink: inout Sink) throws -> ImportResult {
        var blocks = 0
        let link = try put(links: [], data: UnixFSData.symlink(target: target, mtime: metadata.mtime),
                           factory: CIDFactory(parameters), blocks: &blocks, into: &sink)
        return ImportResult(root: link.cid, size: link.tsize, fileSize: 0, blockCount: blocks)
    }

    /// Byte order of names (Go's string `<`).
    @inlinable
    static func precedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.lexicographicallyPrecedes(b)
    }

    /// One shard level: entries grouped by their `bits`-wide slice of the key at `depth`
    /// (MSB first); single entries become value links `HEX(index) + name`, groups become
    /// sub-shards linked as `HEX(index)`.
    private func shard<Sink: BlockSink>(
        _ entries: ArraySlice<(key: UInt64, entry: DirectoryEntry)>, depth: Int, bits: Int, fanout: Int,
        metadata: UnixFSMetadata, factory: CIDFactory, blocks: inout Int, into sink: inout Sink
    ) throws -> ChildLink {
        guard (depth + 1) * bits <= 64 else {
            throw ImportError(.limitExceeded, "HAMT: names collide in all 64 hash bits (\(entries.count) entries)")
        }
        let shift = UInt64(64 - (depth + 1) * bits)
        let mask = UInt64(fanout - 1)
        // Stable: names stay in byte order inside each bucket.
        var byIndex = entries.map { (index: Int(($0.key >> shift) & mask), item: $0) }
        byIndex.sort { $0.index != $1.index ? $0.index < $1.index : DirectoryBuilder.precedes($0.item.entry.name, $1.item.entry.name) }
        var links: [PBLink] = []
        var bitfield = [UInt8](repeating: 0, count: fanout / 8)
        var start = 0
        while start < byIndex.count {
            let index = byIndex[start].index
            var end = start + 1
            while end < byIndex.count && byIndex[end].index == index { end += 1 }
            bitfield[fanout / 8 - 1 - index / 8] |= UInt8(1) << UInt8(index % 8)
            let label = HAMTBucket.prefix(index, fanout: fanout)
            if end - start == 1 {
                let entry = byIndex[start].item.entry
                links.append(PBLink(hash: entry.cid, name: label + entry.name, tsize: entry.tsize))
            } else {
                let group = byIndex[start..<end].map(\.item)
                let child = try shard(group[...], depth: depth + 1, bits: bits, fanout: fanout, metadata: UnixFSMetadata(),
                                      factory: factory, blocks: &blocks, into: &sink)
                links.append(PBLink(hash: child.cid, name: label, tsize: child.tsize))
            }
            start = end
        }
        let firstUsed = bitfield.firstIndex { $0 != 0 } ?? bitfield.count
        let data = UnixFSData.hamtShard(bitfield: Array(bitfield[firstUsed...]), fanout: UInt64(fanout),
                                        mode: metadata.mode, mtime: metadata.mtime)
        return try put(links: links, data: data, factory: factory, blocks: &blocks, into: &sink)
    }

    private func put<Sink: BlockSink>(links: [PBLink], data: UnixFSData, factory: CIDFactory,
                                      blocks: inout Int, into sink: inout Sink) throws -> ChildLink {
        var node = PBNode(links: links, data: data.bytes)
        node.sortLinks()
        let bytes = node.bytes
        var childTotal: UInt64 = 0
        for link in links { childTotal &+= link.tsize ?? 0 }
        let cid = try factory.putDagPB(bytes, into: &sink)
        blocks += 1
        return ChildLink(cid: cid, tsize: UInt64(bytes.count) &+ childTotal, fileSize: 0)
    }
}
