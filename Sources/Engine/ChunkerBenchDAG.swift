/// The DAG `cairn add` builds for one file with the default layout (balanced, CIDv0 — 34-byte
/// multihashes —, dag-pb leaves, at most `maxLinks` links a node), sized from the chunk lengths
/// alone: every node is encoded exactly as the importer encodes it (boxo's balanced builder:
/// one open node per level, a full node closed only when another child arrives), so no block
/// has to be built or hashed. `bytes` is the root's cumulative size (`Size`, `dag_bytes`),
/// `blocks` the blocks put (`dag_blocks`). Tests check both against the real importer.
struct BalancedDAGSize {
    let maxLinks: Int
    /// Per level, the open node's children, summed.
    private var levels: [OpenNode] = []
    private var leaves = 0
    private var firstLeaf = Child(tsize: 0, fileSize: 0)
    private(set) var blocks = 0

    init(maxLinks: Int) { self.maxLinks = maxLinks }

    /// A child as its parent records it: cumulative size (`Tsize`) and file bytes (`blocksizes`).
    struct Child {
        var tsize: UInt64
        var fileSize: UInt64
    }

    /// What a node's encoding needs from its children: their link and blocksize field bytes,
    /// and their sums.
    private struct OpenNode {
        var count = 0
        var linkBytes = 0
        var blocksizeBytes = 0
        var fileSize: UInt64 = 0
        var tsize: UInt64 = 0

        mutating func add(_ child: Child) {
            count += 1
            // PBLink: Hash (34-byte CIDv0 multihash), Name (empty, still written), Tsize.
            let link = 2 + 34 + 2 + 1 + varintBytes(child.tsize)
            linkBytes += fieldBytes(link)
            blocksizeBytes += 1 + varintBytes(child.fileSize)
            fileSize += child.fileSize
            tsize += child.tsize
        }
    }

    /// Adds the next chunk (a leaf: PBNode Data = UnixFS {Type File, Data, filesize}).
    mutating func append(chunk length: Int) {
        let size = UInt64(length)
        let unixfs = 2 + fieldBytes(length) + 1 + varintBytes(size)
        let leaf = Child(tsize: UInt64(fieldBytes(unixfs)), fileSize: size)
        blocks += 1
        leaves += 1
        if leaves == 1 { firstLeaf = leaf }
        push(leaf, level: 0)
    }

    /// The root's cumulative size once every chunk is in (6 bytes, one block, for no chunk).
    mutating func finish() -> UInt64 {
        if leaves == 0 {
            blocks += 1
            return 6  // UnixFS {Type File, filesize 0} in a PBNode
        }
        if leaves == 1 { return firstLeaf.tsize }
        var level = 0
        while true {
            if level == levels.count - 1 { return close(level).tsize }
            if levels[level].count > 0 { push(close(level), level: level + 1) }
            level += 1
        }
    }

    private mutating func push(_ child: Child, level: Int) {
        if levels.count == level { levels.append(OpenNode()) }
        if levels[level].count == maxLinks { push(close(level), level: level + 1) }
        levels[level].add(child)
    }

    /// Closes the open node of `level`: PBNode of its links and Data = UnixFS {Type File,
    /// filesize, one blocksize per child}.
    private mutating func close(_ level: Int) -> Child {
        let node = levels[level]
        levels[level] = OpenNode()
        blocks += 1
        let unixfs = 2 + 1 + varintBytes(node.fileSize) + node.blocksizeBytes
        let size = node.linkBytes + fieldBytes(unixfs)
        return Child(tsize: UInt64(size) + node.tsize, fileSize: node.fileSize)
    }
}

/// Bytes of an unsigned LEB128 varint.
private func varintBytes(_ value: UInt64) -> Int {
    Swift.max(1, (64 - value.leadingZeroBitCount + 6) / 7)
}

/// Bytes of a length-delimited protobuf field (one-byte tag) with a payload of `length` bytes.
private func fieldBytes(_ length: Int) -> Int {
    1 + varintBytes(UInt64(length)) + length
}
