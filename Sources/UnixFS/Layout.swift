import Hashing
import Multiformats
import Blocks

/// A failure during an import (not a bad option): a read error, an impossible CID. The one
/// error pattern of spec/api.md §4: a stable `code` and a one-line `message`.
public struct ImportError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure: a struct with static members so codes can be added later.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: UInt8
        init(_ raw: UInt8) { self.rawValue = raw }

        /// A file, directory or link could not be opened, read or examined.
        public static let io = Code(1)
        /// Something that cannot be imported: a device or socket, a directory without `-r`.
        public static let unsupportedFile = Code(2)
        /// A file changed size while it was being read.
        public static let changed = Code(3)
        /// Following symlinks led back into a directory being imported.
        public static let symlinkCycle = Code(4)
        /// A block cannot get the CID the parameters ask for (inline or identity limits,
        /// a multihash that cannot be made).
        public static let invalidBlock = Code(5)
        /// A directory over a limit (links, HAMT hash collisions).
        public static let limitExceeded = Code(6)
        /// The parameters do not fit this input (metadata on a raw-leaf file root).
        public static let invalidParameters = Code(7)

        public var description: String {
            switch rawValue {
            case 1: return "io"
            case 2: return "unsupported file"
            case 3: return "changed"
            case 4: return "symlink cycle"
            case 5: return "invalid block"
            case 6: return "limit exceeded"
            case 7: return "invalid parameters"
            default: return "code \(rawValue)"
            }
        }
    }

    public var code: Code
    /// One line for people, naming the file at fault.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

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

/// Turns digests into CIDs with the import's prefix rules (kubo-import-semantics.md §2):
/// one hash for every block; dag-pb blocks get the import's CID version; raw blocks are always
/// CIDv1; with `--inline`, blocks of at most `inlineLimit` bytes get an identity CIDv1.
@usableFromInline
struct CIDFactory {
    @usableFromInline let algorithm: HashAlgorithm
    @usableFromInline let hashCode: Multicodec
    @usableFromInline let dagVersion: CID.Version
    @usableFromInline let inlineLimit: Int?

    init(_ parameters: ImportParameters) {
        algorithm = parameters.hashAlgorithm
        hashCode = Multicodec(rawValue: parameters.hashAlgorithm.multihashCode)!
        dagVersion = parameters.cidVersion
        inlineLimit = parameters.inlineLimit
    }

    /// `put(codec: .dagPB, …)` for an encoded node held in an array.
    func putDagPB<Sink: BlockSink>(_ bytes: [UInt8], into sink: inout Sink) throws -> CID {
        try bytes.withUnsafeBytes { raw in try put(codec: .dagPB, raw, into: &sink) }
    }

    /// Hashes one encoded block (unless it is inlined), puts it into `sink`, returns its CID.
    func put<Sink: BlockSink>(codec: Multicodec, _ raw: UnsafeRawBufferPointer, into sink: inout Sink) throws -> CID {
        let block = BlockBytes(body: raw)
        let digest = inlines(raw.count) ? Digest() : algorithm.hash(raw)
        let cid = try cid(codec: codec, digest: digest, block: block)
        try sink.put(cid, block)
        return cid
    }

    /// Whether `length` bytes are inlined (then no digest is needed).
    @inlinable
    func inlines(_ length: Int) -> Bool {
        if let inlineLimit { return length <= inlineLimit }
        return false
    }

    @inlinable
    func cid(codec: Multicodec, digest: Digest, block: BlockBytes) throws(ImportError) -> CID {
        if inlines(block.count) {
            let bytes = block.array
            do {
                return CID.v1(codec: codec, multihash: try Multihash(code: .identity, digest: bytes))
            } catch {
                throw ImportError(.invalidBlock, "cannot inline a \(bytes.count)-byte block: \(error)")
            }
        }
        let made = digest.withUnsafeBytes { raw in
            Result { () throws(MultiformatsError) in try Multihash(code: hashCode, digest: raw) }
        }
        let multihash: Multihash
        switch made {
        case .success(let value): multihash = value
        case .failure(let error):
            throw ImportError(.invalidBlock, "cannot make a \(algorithm.name) multihash of a \(block.count)-byte block: \(error.message)")
        }
        if algorithm == .identity && block.count > ImportParameters.maxInlineLimit {
            throw ImportError(.invalidBlock, "an identity hash of a \(block.count)-byte block exceeds \(ImportParameters.maxInlineLimit) bytes")
        }
        if codec == .dagPB && dagVersion == .v0 {
            do {
                return try CID.v0(multihash)
            } catch {
                throw ImportError(.invalidBlock, error.description)
            }
        }
        return CID.v1(codec: codec, multihash: multihash)
    }
}

/// Encodes, hashes and delivers internal file nodes (Type File, filesize, one blocksize and
/// one unnamed link per child), reusing one buffer.
@usableFromInline
struct NodeEmitter {
    let factory: CIDFactory
    var buffer: [UInt8] = []
    /// Nodes put so far.
    var emitted = 0

    init(factory: CIDFactory) {
        self.factory = factory
        buffer.reserveCapacity(64 * 1024)
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

/// boxo's trickle layout as a push state machine. A frame is one node being filled: first up
/// to `maxLinks` leaves, then subtrees of depth 1, 1, 1, 1, 2, 2, 2, 2, … below its own depth
/// limit (none for the root). A subtree frame opens only when a leaf arrives for it, so no
/// empty node is ever made, exactly as the recursive Go code stops when input runs out.
@usableFromInline
struct TrickleBuilder {
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
            if stack[top].repeats < TrickleBuilder.depthRepeat {
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
                                          metadata: UnixFSMetadata = UnixFSMetadata()) throws -> ChildLink {
        while stack.count > 1 {
            let frame = stack.removeLast()
            let node = try emitter.emit(frame.children[...], into: &sink)
            stack[stack.count - 1].children.append(node)
        }
        return try emitter.emit(stack[0].children[...], into: &sink, metadata: metadata)
    }
}
