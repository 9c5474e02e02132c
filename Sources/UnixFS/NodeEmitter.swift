import Multiformats
import Blocks

/// What a parent records about a child: its CID, its cumulative size (`Tsize`) and how many
/// file bytes it holds (the parent's `blocksizes` entry).
@usableFromInline
struct ChildLink {
    @usableFromInline var cid: CID
    @usableFromInline var tsize: UInt64
    @usableFromInline var fileSize: UInt64

    @usableFromInline
    init(cid: CID, tsize: UInt64, fileSize: UInt64) {
        self.cid = cid
        self.tsize = tsize
        self.fileSize = fileSize
    }
}

/// The one node emitter every file layout (``FileLayoutStrategy``) builds on, as boxo's layouts
/// build on its DAG-builder helper: encodes, hashes and delivers internal file nodes (Type File,
/// filesize, one blocksize and one unnamed link per child) reusing one buffer, and the file
/// roots that are leaves (the empty file, a one-leaf file with metadata).
@usableFromInline
struct NodeEmitter {
    let factory: CIDFactory
    /// Leaves are raw blocks (the empty file is then an empty raw block).
    let rawLeaves: Bool
    var buffer: [UInt8] = []
    /// Blocks put so far.
    var emitted = 0

    init(factory: CIDFactory, rawLeaves: Bool) {
        self.factory = factory
        self.rawLeaves = rawLeaves
        buffer.reserveCapacity(64 * 1024)
    }

    /// The root of a file without content: an empty raw block with raw leaves, else a file
    /// node without links (carrying `metadata`).
    mutating func emitEmptyFile<Sink: BlockSink>(into sink: inout Sink, metadata: UnixFSMetadata) throws -> ChildLink {
        guard rawLeaves else { return try emit([][...], into: &sink, metadata: metadata) }
        let cid = try factory.put(codec: .raw, UnsafeRawBufferPointer(start: nil, count: 0), into: &sink)
        emitted += 1
        return ChildLink(cid: cid, tsize: 0, fileSize: 0)
    }

    /// A dag-pb file leaf holding `chunk` and `metadata`: the root of a one-leaf file with
    /// metadata.
    mutating func emitLeaf<Sink: BlockSink>(_ chunk: [UInt8], into sink: inout Sink,
                                            metadata: UnixFSMetadata) throws -> ChildLink {
        let data = UnixFSData(type: .file, data: chunk, fileSize: UInt64(chunk.count),
                              mode: metadata.mode, mtime: metadata.mtime)
        let bytes = data.leafBlock
        let cid = try factory.putDagPB(bytes, into: &sink)
        emitted += 1
        return ChildLink(cid: cid, tsize: UInt64(bytes.count), fileSize: UInt64(chunk.count))
    }

    /// Builds the node over `children`, puts it into `sink`, and returns its link.
    /// `metadata` (roots only) appends UnixFS `mode`/`mtime` after the blocksizes.
    mutating func emit<Sink: BlockSink>(_ children: ArraySlice<ChildLink>, into sink: inout Sink,
                                        metadata: UnixFSMetadata = UnixFSMetadata()) throws -> ChildLink {
        var fileSize: UInt64 = 0
        var childTotal: UInt64 = 0
        var unixfsLength = 2  // 08 02
        var linksLength = 0
        for child in children {
            fileSize &+= child.fileSize
            childTotal &+= child.tsize
            unixfsLength += Wire.varintFieldSize(child.fileSize)
            let cidLength = child.cid.encodedLength
            let body = Wire.bytesFieldSize(cidLength) + 2 + Wire.varintFieldSize(child.tsize)
            linksLength += Wire.bytesFieldSize(body)
        }
        unixfsLength += Wire.varintFieldSize(fileSize)
        let trailer = UnixFSData(type: .raw, mode: metadata.mode, mtime: metadata.mtime)
        let trailerLength = metadata.isEmpty ? 0 : trailer.encodedLength - 2  // without its `08 00`
        unixfsLength += trailerLength
        let total = linksLength + Wire.bytesFieldSize(unixfsLength)
        if buffer.count < total { buffer = [UInt8](repeating: 0, count: max(total, buffer.count * 2)) }
        let written = buffer.withUnsafeMutableBufferPointer { out -> Int in
            let base = out.baseAddress!
            var p = base
            for child in children {
                let cidLength = child.cid.encodedLength
                let body = Wire.bytesFieldSize(cidLength) + 2 + Wire.varintFieldSize(child.tsize)
                p[0] = 0x12
                p += 1
                p += Wire.writeVarint(UInt64(body), to: p)
                p[0] = 0x0A
                p += 1
                p += Wire.writeVarint(UInt64(cidLength), to: p)
                p += child.cid.encode(to: UnsafeMutableRawBufferPointer(start: p, count: cidLength))
                p[0] = 0x12
                p[1] = 0x00
                p[2] = 0x18
                p += 3
                p += Wire.writeVarint(child.tsize, to: p)
            }
            p[0] = 0x0A
            p += 1
            p += Wire.writeVarint(UInt64(unixfsLength), to: p)
            p[0] = 0x08
            p[1] = 0x02
            p[2] = 0x18
            p += 3
            p += Wire.writeVarint(fileSize, to: p)
            for child in children {
                p[0] = 0x20
                p += 1
                p += Wire.writeVarint(child.fileSize, to: p)
            }
            if trailerLength > 0 {
                var scratch = [UInt8](repeating: 0, count: trailerLength + 2)
                let n = scratch.withUnsafeMutableBytes { trailer.encode(to: $0) }
                for i in 2..<n { p[0] = scratch[i]; p += 1 }
            }
            return p - base
        }
        precondition(written == total, "file node size mismatch")
        return try buffer.withUnsafeBytes { raw in
            let cid = try factory.put(codec: .dagPB, UnsafeRawBufferPointer(rebasing: raw[0..<total]), into: &sink)
            emitted += 1
            return ChildLink(cid: cid, tsize: UInt64(total) &+ childTotal, fileSize: fileSize)
        }
    }
}
