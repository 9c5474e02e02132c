import Blocks

/// boxo's balanced layout, built as leaves stream in: one open node per level, a full node is
/// closed only when another child arrives for its level, so a tree is never taller than
/// needed; every leaf ends at the same depth; one leaf is its own root.
@usableFromInline
struct BalancedBuilder {
    let maxLinks: Int
    var levels: [[ChildLink]] = []
    var leafCount = 0
    var firstLeaf: ChildLink? = nil

    init(maxLinks: Int) { self.maxLinks = maxLinks }

    /// Closes whatever must be closed before the next leaf (a full bottom node, and upwards),
    /// so nodes are put right after their last child, before the next leaf, as Kubo stores them.
    mutating func prepare<Sink: BlockSink>(emitter: inout NodeEmitter, sink: inout Sink) throws {
        try makeRoom(level: 0, emitter: &emitter, sink: &sink)
    }

    /// Adds a leaf; `prepare` must have been called since the previous one.
    mutating func append(leaf: ChildLink) {
        leafCount += 1
        if leafCount == 1 { firstLeaf = leaf }
        levels[0].append(leaf)
    }

    private mutating func makeRoom<Sink: BlockSink>(level: Int, emitter: inout NodeEmitter, sink: inout Sink) throws {
        if levels.count == level {
            levels.append([])
            levels[level].reserveCapacity(maxLinks)
        }
        if levels[level].count == maxLinks {
            let node = try emitter.emit(levels[level][...], into: &sink)
            levels[level].removeAll(keepingCapacity: true)
            try push(node, level: level + 1, emitter: &emitter, sink: &sink)
        }
    }

    private mutating func push<Sink: BlockSink>(_ child: ChildLink, level: Int, emitter: inout NodeEmitter, sink: inout Sink) throws {
        try makeRoom(level: level, emitter: &emitter, sink: &sink)
        levels[level].append(child)
    }

    /// The root: nil when no leaf was added (the caller makes the empty file).
    mutating func finish<Sink: BlockSink>(emitter: inout NodeEmitter, sink: inout Sink,
                                          metadata: UnixFSMetadata = UnixFSMetadata()) throws -> ChildLink? {
        if leafCount == 0 { return nil }
        if leafCount == 1 { return firstLeaf }
        var level = 0
        while true {
            if level == levels.count - 1 {
                return try emitter.emit(levels[level][...], into: &sink, metadata: metadata)
            }
            if !levels[level].isEmpty {
                let node = try emitter.emit(levels[level][...], into: &sink)
                levels[level].removeAll(keepingCapacity: true)
                try push(node, level: level + 1, emitter: &emitter, sink: &sink)
            }
            level += 1
        }
    }
}
