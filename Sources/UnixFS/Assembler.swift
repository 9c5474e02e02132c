import Hashing
import Multiformats
import Blocks

/// Turns hashed leaves into CIDs, puts them into the sink in order and feeds the layout.
struct Assembler {
    let parameters: ImportParameters
    let factory: CIDFactory
    var emitter: NodeEmitter
    var balanced: BalancedBuilder
    var trickle: TrickleBuilder
    let leafCodec: Multicodec
    var fileSize: UInt64 = 0
    var blockCount = 0
    /// Root metadata. With it, a balanced file's first leaf is held back (a copy, at most one
    /// chunk) until a second leaf shows it is not the root: a one-leaf file's root is that
    /// leaf re-encoded with the metadata, and the plain leaf is never put.
    var metadata = UnixFSMetadata()
    var heldLeaf: (cid: CID, block: [UInt8], chunk: [UInt8])? = nil
    var leaves = 0

    init(parameters: ImportParameters, factory: CIDFactory) {
        self.parameters = parameters
        self.factory = factory
        self.emitter = NodeEmitter(factory: factory)
        self.balanced = BalancedBuilder(maxLinks: parameters.maxLinks)
        self.trickle = TrickleBuilder(maxLinks: parameters.maxLinks)
        self.leafCodec = parameters.rawLeaves ? .raw : .dagPB
    }

    mutating func assemble<Sink: BlockSink>(_ batch: LeafBatch, into sink: inout Sink) throws {
        for i in 0..<batch.count {
            let block = batch.inputs[i]
            let cid = try factory.cid(codec: leafCodec, digest: batch.digests[i], block: block)
            // Nodes completed by the previous leaf go out before this leaf (Kubo's store order).
            switch parameters.layout {
            case .balanced: try balanced.prepare(emitter: &emitter, sink: &sink)
            case .trickle: try trickle.prepare(emitter: &emitter, sink: &sink)
            }
            leaves += 1
            if let held = heldLeaf {
                heldLeaf = nil
                try held.block.withUnsafeBytes { try sink.put(held.cid, BlockBytes(body: $0)) }
                blockCount += 1
            }
            if leaves == 1 && !metadata.isEmpty && parameters.layout == .balanced {
                heldLeaf = (cid, block.array, Array(block.body))
            } else {
                try sink.put(cid, block)
                blockCount += 1
            }
            let length = UInt64(block.body.count)
            let leaf = ChildLink(cid: cid, tsize: UInt64(block.count), fileSize: length)
            fileSize &+= length
            switch parameters.layout {
            case .balanced: balanced.append(leaf: leaf)
            case .trickle: trickle.append(leaf: leaf)
            }
        }
    }

    mutating func finish<Sink: BlockSink>(into sink: inout Sink) throws -> ImportResult {
        let root: ChildLink
        switch parameters.layout {
        case .balanced:
            if let held = heldLeaf {
                heldLeaf = nil
                let data = UnixFSData(type: .file, data: held.chunk, fileSize: UInt64(held.chunk.count),
                                      mode: metadata.mode, mtime: metadata.mtime)
                let bytes = data.leafBlock
                let cid = try factory.putDagPB(bytes, into: &sink)
                blockCount += 1
                root = ChildLink(cid: cid, tsize: UInt64(bytes.count), fileSize: fileSize)
            } else if let made = try balanced.finish(emitter: &emitter, sink: &sink, metadata: metadata) {
                root = made
            } else if parameters.rawLeaves {
                let cid = try factory.put(codec: .raw, UnsafeRawBufferPointer(start: nil, count: 0), into: &sink)
                blockCount += 1
                root = ChildLink(cid: cid, tsize: 0, fileSize: 0)
            } else {
                root = try emitter.emit([][...], into: &sink, metadata: metadata)
            }
        case .trickle:
            root = try trickle.finish(emitter: &emitter, sink: &sink, metadata: metadata)
        }
        return ImportResult(root: root.cid, size: root.tsize, fileSize: fileSize, blockCount: blockCount + emitter.emitted)
    }
}
