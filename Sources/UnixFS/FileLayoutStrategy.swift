import Blocks

/// How a file's leaves become a tree. A layout is a strategy over the one ``NodeEmitter``
/// (which encodes, hashes and puts every node the layout makes), the way boxo's balanced and
/// trickle layouts both sit on its DAG-builder helper: the ``Assembler`` hands it the leaves
/// in order and asks it for the root, and never asks which layout it has. Implementations:
/// ``BalancedLayout`` and ``TrickleLayout`` (spec/unixfs.md §4). Used as a generic parameter,
/// never as an existential, so each layout is specialised into the pipeline.
protocol FileLayoutStrategy {
    /// The UnixFS type that frames this layout's dag-pb leaves.
    static var leafType: UnixFSType { get }
    /// Whether one leaf is the whole file's root. With root metadata, the assembler then holds
    /// the first leaf back until a second one arrives (a one-leaf root is re-encoded with it).
    static var singleLeafIsRoot: Bool { get }

    init(maxLinks: Int)

    /// Puts the nodes that the next leaf closes (they go out before it, in Kubo's store order).
    mutating func prepare<Sink: BlockSink>(emitter: inout NodeEmitter, sink: inout Sink) throws
    /// Adds a leaf (already put); `prepare` has been called since the previous one.
    mutating func append(leaf: ChildLink)
    /// Closes every open node and returns the root, which carries `metadata`.
    mutating func finish<Sink: BlockSink>(emitter: inout NodeEmitter, sink: inout Sink,
                                          metadata: UnixFSMetadata) throws -> ChildLink
}
