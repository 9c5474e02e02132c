import Blocks

/// boxo's trickle layout as a push state machine. A frame is one node being filled: first up
/// to `maxLinks` leaves, then subtrees of depth 1, 1, 1, 1, 2, 2, 2, 2, … below its own depth
/// limit (none for the root). A subtree frame opens only when a leaf arrives for it, so no
/// empty node is ever made, exactly as the recursive Go code stops when input runs out.
@usableFromInline
struct TrickleLayout: FileLayoutStrategy {
    static var leafType: UnixFSType { .raw }
    static var singleLeafIsRoot: Bool { false }
    static let depthRepeat = 4

    struct Frame {
        var children: [ChildLink] = []
        /// -1 = unlimited (the root).
        let maxDepth: Int
        var inSubtrees = false
        var depth = 1
        var repeats = 0
    }

    let maxLinks: Int
    var stack: [Frame]

    init(maxLinks: Int) {
        self.maxLinks = maxLinks
        self.stack = [Frame(maxDepth: -1)]
    }

    /// Opens or closes frames until the top frame can take the next leaf.
    mutating func prepare<Sink: BlockSink>(emitter: inout NodeEmitter, sink: inout Sink) throws {
        while true {
            let top = stack.count - 1
            if !stack[top].inSubtrees && stack[top].children.count < maxLinks { return }
            stack[top].inSubtrees = true
            // The next subtree's depth: `depthRepeat` subtrees per depth, depths 1, 2, 3, …
            if stack[top].repeats < TrickleLayout.depthRepeat {
                stack[top].repeats += 1
            } else {
                stack[top].depth += 1
                stack[top].repeats = 1
            }
            let depth = stack[top].depth
            if stack[top].maxDepth != -1 && depth >= stack[top].maxDepth {
                // This frame is complete: close it into its parent, which then decides.
                let frame = stack.removeLast()
                let node = try emitter.emit(frame.children[...], into: &sink)
                stack[stack.count - 1].children.append(node)
                continue
            }
            stack.append(Frame(maxDepth: depth))
        }
    }

    /// Adds a leaf; `prepare` must have been called since the previous one.
    mutating func append(leaf: ChildLink) {
        stack[stack.count - 1].children.append(leaf)
    }

    /// Closes every open frame; the root is always a node (even for zero or one leaf).
    mutating func finish<Sink: BlockSink>(emitter: inout NodeEmitter, sink: inout Sink,
                                          metadata: UnixFSMetadata) throws -> ChildLink {
        while stack.count > 1 {
            let frame = stack.removeLast()
            let node = try emitter.emit(frame.children[...], into: &sink)
            stack[stack.count - 1].children.append(node)
        }
        return try emitter.emit(stack[0].children[...], into: &sink, metadata: metadata)
    }
}
