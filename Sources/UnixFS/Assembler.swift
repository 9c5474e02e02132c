import Hashing
import Multiformats
import Blocks

import CairnSystem

/// Turns hashed leaves into CIDs, puts them into the sink in order and feeds the layout.
struct Assembler<Layout: FileLayoutStrategy> {
    let factory: CIDFactory
    var emitter: NodeEmitter
    var layout: Layout
    let leafCodec: Multicodec
    var fileSize: UInt64 = 0
    var blockCount = 0
    /// Root metadata. With it, when one leaf is the layout's root, the first leaf is held back
    /// (a copy, at most one chunk) until a second leaf shows it is not the root: a one-leaf
    /// file's root is that leaf re-encoded with the metadata, and the plain leaf is never put.
    var metadata = UnixFSMetadata()
    var heldLeaf: (cid: CID, block: [UInt8], chunk: [UInt8])? = nil
    var leaves = 0
    /// Checked before a batch's first leaf (its hashing may have stopped short once the token
    /// was cancelled) and every 16 leaves after: a mapped batch holds up to 64 MiB, whose
    /// writes alone would outlast the 100 ms a signal may take to stop the import
    /// (spec/system.md §4).
    var cancellation = CancellationToken.process

    init(parameters: ImportParameters, factory: CIDFactory) {
        self.factory = factory
        self.emitter = NodeEmitter(factory: factory, rawLeaves: parameters.rawLeaves)
        self.layout = Layout(maxLinks: parameters.maxLinks)
        self.leafCodec = parameters.rawLeaves ? .raw : .dagPB
    }

    mutating func assemble<Sink: BlockSink>(_ batch: LeafBatch, into sink: inout Sink) throws {
        for i in 0..<batch.count {
            if i & 15 == 0 { try cancellation.check() }
            let block = batch.inputs[i]
            let cid = try factory.cid(codec: leafCodec, digest: batch.digests[i], block: block)
            // Nodes completed by the previous leaf go out before this leaf (Kubo's store order).
            try layout.prepare(emitter: &emitter, sink: &sink)
            leaves += 1
            if let held = heldLeaf {
                heldLeaf = nil
                try held.block.withUnsafeBytes { try sink.put(held.cid, BlockBytes(body: $0)) }
                blockCount += 1
            }
            if leaves == 1 && !metadata.isEmpty && Layout.singleLeafIsRoot {
                heldLeaf = (cid, block.array, Array(block.body))
            } else {
                try sink.put(cid, block)
                blockCount += 1
            }
            let length = UInt64(block.body.count)
            fileSize &+= length
            layout.append(leaf: ChildLink(cid: cid, tsize: UInt64(block.count), fileSize: length))
        }
    }

    mutating func finish<Sink: BlockSink>(into sink: inout Sink) throws -> ImportResult {
        let root: ChildLink
        if let held = heldLeaf {
            heldLeaf = nil
            root = try emitter.emitLeaf(held.chunk, into: &sink, metadata: metadata)
        } else {
            root = try layout.finish(emitter: &emitter, sink: &sink, metadata: metadata)
        }
        return ImportResult(root: root.cid, size: root.tsize, fileSize: fileSize, blockCount: blockCount + emitter.emitted)
    }
}
