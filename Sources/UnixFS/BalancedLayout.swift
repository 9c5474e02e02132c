import Blocks

/// boxo's balanced layout, built as leaves stream in: one open node per level, a full node is
/// closed only when another child arrives for its level, so a tree is never taller than
/// needed; every leaf ends at the same depth; one leaf is its own root.
@usableFromInline
struct BalancedLayout: FileLayoutStrategy {
    static var leafType: UnixFSType { .file }
    static var singleLeafIsRoot: Bool { true }

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
            levels[level].reserveCapacity(min(maxLinks, 4096))  // any flag value may be given: never reserve it blindly
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

    /// The root: the empty file for no leaf, the leaf itself for one.
    mutating func finish<Sink: BlockSink>(emitter: inout NodeEmitter, sink: inout Sink,
                                          metadata: UnixFSMetadata) throws -> ChildLink {
        if leafCount == 0 { return try emitter.emitEmptyFile(into: &sink, metadata: metadata) }
        if leafCount == 1, let firstLeaf { return firstLeaf }
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
