public import Chunking
internal import CCairnSystem
import Dispatch
public import Hashing
public import Multiformats
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The outcome of importing one file.
public struct ImportResult: Hashable, Sendable {
    /// The root CID (what `ipfs add` prints).
    public var root: CID
    /// The root's cumulative size: what a parent directory's link records as `Tsize`.
    public var size: UInt64
    /// Bytes of file content.
    public var fileSize: UInt64
    /// Blocks put into the sink (repeats included).
    public var blockCount: Int
}

/// Imports one file into a UnixFS DAG exactly as Kubo's `ipfs add` does, streaming:
/// read → chunk → hash leaves in parallel batches → assemble the tree in order → sink.
///
/// Memory stays constant whatever the input size: two batches of leaves (one being hashed
/// while the next is read and chunked), and one open node per tree level. Regular files are
/// memory-mapped (no copy at all; pages are released after each batch), other inputs are read
/// into two reused buffers.
///
/// Threads: `threads` workers hash each batch (multi-buffer SIMD kernels where the CPU has
/// them); with more than one thread, reading and chunking the next batch overlaps the hashing
/// of the current one. With one thread everything runs on the calling thread.
///
/// Cancellation: `Task.isCancelled` and the optional `isCancelled` hook are checked before
/// every batch; the import then throws `CancellationError`.
public struct FileImporter: Sendable {
    public let parameters: ImportParameters
    public let threads: Int
    /// Target bytes of file content per batch (the read-ahead bound). The default is 16 MiB, or
    /// enough for every thread to fill all lanes of the hash kernel with the largest chunks.
    public var batchBytes: Int {
        didSet { batchBytesChosen = true }
    }
    /// A memory-mapped file costs no buffer, so with fixed-size chunks its batches default to
    /// 64 MiB (fewer hand-offs to the hashing threads), unless `batchBytes` was set. A
    /// content-defined chunker keeps the default (the first and last batches do not overlap
    /// chunking with hashing, so they should be short).
    private var batchBytesChosen = false
    static let mappedBatchBytes = 64 << 20
    /// Most leaves per batch (bounds memory for tiny chunk sizes).
    public var batchLeaves: Int = 4096
    /// Memory-map regular files (otherwise they are read like pipes).
    public var memoryMapFiles = true
    public var isCancelled: (@Sendable () -> Bool)? = nil
    /// Called on the importing thread after each batch with the content bytes done so far.
    public var progress: (@Sendable (UInt64) -> Void)? = nil

    /// - Parameters:
    ///   - parameters: validated here.
    ///   - threads: hashing threads; nil = the active processor count.
    public init(parameters: ImportParameters = .kuboDefault, threads: Int? = nil) throws(ImportOptionsError) {
        try parameters.validate()
        self.parameters = parameters
        self.threads = max(1, threads ?? sysconfThreads())
        let lanes = max(1, HashKernel.selected(for: parameters.hashAlgorithm).lanes)
        self.batchBytes = max(16 << 20, parameters.chunker.maximumChunkLength * lanes * self.threads)
    }

    // MARK: Entry points

    /// Imports bytes already in memory (no copy).
    public func importBytes<Sink: BlockSink>(_ bytes: UnsafeRawBufferPointer, into sink: inout Sink) throws -> ImportResult {
        var producer = RegionProducer(bytes, finder: Chunker(parameters.chunker), release: false)
        return try run(&producer, into: &sink)
    }

    /// Imports bytes already in memory.
    public func importBytes<Sink: BlockSink>(_ bytes: [UInt8], into sink: inout Sink) throws -> ImportResult {
        try bytes.withUnsafeBytes { try importBytes($0, into: &sink) }
    }

    /// Imports everything a byte source yields (a pipe, stdin, a socket, memory).
    /// `metadata` goes into the file's root (which is then never a raw block).
    public func importStream<Source: ByteSource, Sink: BlockSink>(_ source: Source, into sink: inout Sink,
                                                                  metadata: UnixFSMetadata = UnixFSMetadata()) throws -> ImportResult {
        let producer = StreamProducer(source: source, finder: Chunker(parameters.chunker), batchBytes: batchBytes)
        defer { producer.deallocate() }
        var handle = producer
        return try run(&handle, into: &sink, metadata: metadata)
    }

    /// Imports the file at `path` (`-` = standard input).
    public func importFile<Sink: BlockSink>(atPath path: String, into sink: inout Sink,
                                            metadata: UnixFSMetadata = UnixFSMetadata()) throws -> ImportResult {
        if path == "-" { return try importFile(descriptor: 0, into: &sink, metadata: metadata) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImportError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        return try importFile(descriptor: fd, into: &sink, name: path, metadata: metadata)
    }

    /// Imports from an open descriptor (not closed): memory-mapped when it is a regular file.
    public func importFile<Sink: BlockSink>(descriptor fd: Int32, into sink: inout Sink, name: String = "input",
                                            metadata: UnixFSMetadata = UnixFSMetadata()) throws -> ImportResult {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ImportError("cannot stat \(name): \(String(cString: strerror(errno)))") }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw ImportError("\(name) is a directory") }
        let size = Int(info.st_size)
        if memoryMapFiles && (info.st_mode & S_IFMT) == S_IFREG && size > 0 {
            let offset = lseek(fd, 0, SEEK_CUR)
            if offset == 0, let mapping = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapping != MAP_FAILED {
                // A guarded mapping: if the file is truncated under us, the pages past its new end
                // read as zeros instead of raising SIGBUS, and the import fails below.
                let guardSlot = ccairn_guard_register(mapping, size)
                defer {
                    ccairn_guard_unregister(guardSlot)
                    munmap(mapping, size)
                }
                if guardSlot >= 0 {
                    _ = madvise(mapping, size, Int32(MADV_SEQUENTIAL))
                    var producer = RegionProducer(UnsafeRawBufferPointer(start: mapping, count: size), finder: Chunker(parameters.chunker), release: true)
                    producer.prefault = !parameters.chunker.isFixedSize && threads > 1
                    defer { producer.finishPrefault() }
                    let result = try run(&producer, into: &sink, metadata: metadata, mapped: true)
                    var after = stat()
                    if ccairn_guard_damaged(guardSlot) != 0 || fstat(fd, &after) != 0 || Int(after.st_size) != size {
                        throw ImportError("\(name) changed size while it was being read")
                    }
                    return result
                }
            }
        }
        return try importStream(FileDescriptorSource(fileDescriptor: fd), into: &sink, metadata: metadata)
    }

    // MARK: The pipeline

    private func checkCancelled() throws {
        if Task.isCancelled || (isCancelled?() ?? false) { throw CancellationError() }
    }

    private func run<Producer: ChunkProducer, Sink: BlockSink>(_ producer: inout Producer, into sink: inout Sink,
                                                               metadata: UnixFSMetadata = UnixFSMetadata(),
                                                               mapped: Bool = false) throws -> ImportResult {
        if !metadata.isEmpty && parameters.rawLeaves {
            throw ImportError("a file root with mode or mtime must be dag-pb: turn raw leaves off")
        }
        let factory = CIDFactory(parameters)
        var assembler = Assembler(parameters: parameters, factory: factory)
        assembler.metadata = metadata
        // A content-defined chunker keeps this thread busy, so the hashing stage leaves it a
        // core of its own; with fixed-size chunks this thread mostly waits, so hashing takes all.
        var hashThreads = threads
        if !parameters.chunker.isFixedSize && threads > 1 { hashThreads = threads - 1 }
        let hasher = LeafHasher(algorithm: parameters.hashAlgorithm, threads: hashThreads)
        let capacity = max(1, batchLeaves)
        let batches = [LeafBatch(capacity: capacity), LeafBatch(capacity: capacity)]
        let framing = parameters.rawLeaves ? nil : (parameters.layout == .balanced ? UnixFSType.file : UnixFSType.raw)
        let limits = BatchLimits(
            bytes: mapped && !batchBytesChosen && parameters.chunker.isFixedSize
                ? max(batchBytes, FileImporter.mappedBatchBytes) : batchBytes,
            leaves: capacity)

        if threads <= 1 {
            while true {
                try checkCancelled()
                let batch = batches[0]
                try producer.fill(batch, limits: limits, framing: framing)
                if batch.count == 0 { break }
                hasher.hash(batch)
                try assembler.assemble(batch, into: &sink)
                producer.release(batch)
                progress?(assembler.fileSize)
            }
            return try assembler.finish(into: &sink)
        }

        // Two-stage pipeline: the hashing stage works on batch k while this thread reads and
        // chunks batch k+1, then assembles batch k in order.
        let stage = HashStage(hasher: hasher)
        var inFlight: LeafBatch? = nil
        defer { if inFlight != nil { stage.wait() } }
        var index = 0
        while true {
            try checkCancelled()
            let batch = batches[index & 1]
            try producer.fill(batch, limits: limits, framing: framing)
            if batch.count > 0 { stage.start(batch) }
            if let previous = inFlight {
                inFlight = nil
                stage.wait()
                try assembler.assemble(previous, into: &sink)
                producer.release(previous)
                progress?(assembler.fileSize)
            }
            if batch.count == 0 { break }
            inFlight = batch
            index += 1
        }
        return try assembler.finish(into: &sink)
    }
}

extension ChunkerSpec {
    var isFixedSize: Bool {
        if case .fixed = self { return true }
        return false
    }
}

private func sysconfThreads() -> Int {
    let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
    return n > 0 ? Int(n) : 1
}

// MARK: - Batches

/// Bounds of one batch.
struct BatchLimits {
    var bytes: Int
    var leaves: Int
}

/// One batch of leaves: their hash inputs (each chunk, borrowed from the producer, between its
/// framing bytes), the framing bytes and the digests. Allocated once per import and reused.
final class LeafBatch: @unchecked Sendable {
    static let framingStride = 32
    let capacity: Int
    var count = 0
    let inputs: UnsafeMutablePointer<HashInput>
    let digests: UnsafeMutablePointer<Digest>
    /// Per leaf: prefix at `i * 32`, suffix at `i * 32 + 20`.
    let framing: UnsafeMutableRawPointer

    init(capacity: Int) {
        self.capacity = capacity
        inputs = .allocate(capacity: capacity)
        digests = .allocate(capacity: capacity)
        digests.initialize(repeating: Digest(), count: capacity)
        framing = .allocate(byteCount: capacity * LeafBatch.framingStride, alignment: 16)
    }

    deinit {
        inputs.deallocate()
        digests.deinitialize(count: capacity)
        digests.deallocate()
        framing.deallocate()
    }

    /// Adds a chunk; for dag-pb leaves writes the UnixFS framing around it:
    /// prefix `0a len(U) 08 type 12 len(L)`, suffix `18 len(L)`, U = the UnixFS message.
    @inline(__always)
    func append(_ chunk: UnsafeRawBufferPointer, framing type: UnixFSType?) {
        let i = count
        if let type {
            let length = UInt64(chunk.count)
            let lengthSize = Wire.varintSize(length)
            let unixfs = 2 + 1 + lengthSize + chunk.count + 1 + lengthSize
            let prefix = (framing + i * LeafBatch.framingStride).assumingMemoryBound(to: UInt8.self)
            var p = prefix
            p[0] = 0x0A
            p += 1
            p += Wire.writeVarint(UInt64(unixfs), to: p)
            p[0] = 0x08
            p[1] = UInt8(type.rawValue)
            p[2] = 0x12
            p += 3
            p += Wire.writeVarint(length, to: p)
            let suffix = prefix + 20
            suffix[0] = 0x18
            let suffixCount = 1 + Wire.writeVarint(length, to: suffix + 1)
            inputs[i] = HashInput(
                prefix: UnsafeRawBufferPointer(start: prefix, count: p - prefix),
                body: chunk,
                suffix: UnsafeRawBufferPointer(start: suffix, count: suffixCount))
        } else {
            inputs[i] = HashInput(chunk)
        }
        count = i + 1
    }
}

/// Hands out chunks in batches. Chunk bytes stay valid until `release` of their batch.
protocol ChunkProducer {
    /// Resets `batch` and fills it with the next chunks; an empty batch means the input ended.
    mutating func fill(_ batch: LeafBatch, limits: BatchLimits, framing: UnixFSType?) throws
    /// The batch has been delivered; its bytes are no longer needed.
    mutating func release(_ batch: LeafBatch)
}

/// Chunks a contiguous region (a memory map or caller memory) in place.
struct RegionProducer: ChunkProducer {
    let region: UnsafeRawBufferPointer
    let finder: Chunker
    let release: Bool
    /// Populate upcoming pages ahead of the chunker (content-defined chunkers with 2+ threads).
    var prefault = false
    private var prefaulted = 0
    private let prefaultQueue = DispatchQueue(label: "cairn.unixfs.prefault")
    var position = 0
    var released = 0
    let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    init(_ region: UnsafeRawBufferPointer, finder: Chunker, release: Bool) {
        self.region = region
        self.finder = finder
        self.release = release
    }

    mutating func fill(_ batch: LeafBatch, limits: BatchLimits, framing: UnixFSType?) throws {
        batch.count = 0
        guard let base = region.baseAddress else { return }
        var bytes = 0
        while position < region.count && batch.count < limits.leaves && bytes < limits.bytes {
            let window = UnsafeRawBufferPointer(start: base + position, count: region.count - position)
            let length = finder.checkedCut(in: window)
            batch.append(UnsafeRawBufferPointer(start: base + position, count: length), framing: framing)
            position += length
            bytes += length
        }
        if prefault { prefaultAhead(from: position, window: limits.bytes) }
    }

    /// A content-defined chunker reads every byte on the importing thread, and a first touch of
    /// a mapped page is a page fault: on this machine faulting 1 GiB in as the chunker goes costs
    /// more than the chunking itself, where mapping it in 64 MiB steps ahead of time
    /// (`MADV_POPULATE_READ`, Linux 5.14; elsewhere a harmless error) costs a tenth. So the
    /// windows one and two batches ahead are populated on another thread.
    private mutating func prefaultAhead(from position: Int, window: Int) {
        guard let base = region.baseAddress else { return }
        let target = Swift.min(region.count, position + 2 * window)
        guard target > prefaulted else { return }
        let start = Swift.max(prefaulted, position) / pageSize * pageSize
        let address = UInt(bitPattern: base + start)
        let length = target - start
        prefaulted = target
        prefaultQueue.async {
            _ = madvise(UnsafeMutableRawPointer(bitPattern: address), length, RegionProducer.populateRead)
        }
    }

    /// `MADV_POPULATE_READ`, spelled out for older headers.
    static let populateRead: Int32 = 22

    /// Waits for outstanding populate calls (before the mapping goes away).
    func finishPrefault() {
        if prefault { prefaultQueue.sync {} }
    }

    mutating func release(_ batch: LeafBatch) {
        guard release, batch.count > 0, let base = region.baseAddress else { return }
        let last = batch.inputs[batch.count - 1].body
        let end = (last.baseAddress! - base) + last.count
        let upTo = end / pageSize * pageSize
        if upTo > released {
            if prefault {
                // Off the chunking thread too: the batch is hashed and assembled, nobody reads it.
                let address = UInt(bitPattern: base + released), length = upTo - released
                prefaultQueue.async {
                    _ = madvise(UnsafeMutableRawPointer(bitPattern: address), length, Int32(MADV_DONTNEED))
                }
            } else {
                _ = madvise(UnsafeMutableRawPointer(mutating: base + released), upTo - released, Int32(MADV_DONTNEED))
            }
            released = upTo
        }
    }
}

/// Reads a `ByteSource` into two alternating buffers; the tail after the last whole chunk of
/// one buffer (shorter than the longest chunk) is carried to the start of the other.
struct StreamProducer<Source: ByteSource>: ChunkProducer {
    var source: Source
    let finder: Chunker
    let capacity: Int
    let buffers: (UnsafeMutableRawPointer, UnsafeMutableRawPointer)
    var current = 0
    /// Unchunked bytes at the end of the buffer filled last.
    var carryStart = 0
    var carryEnd = 0
    var atEnd = false

    init(source: Source, finder: Chunker, batchBytes: Int) {
        self.source = source
        self.finder = finder
        self.capacity = max(batchBytes, 64 << 10) + finder.maximumChunkLength
        self.buffers = (.allocate(byteCount: capacity, alignment: 64), .allocate(byteCount: capacity, alignment: 64))
    }

    func deallocate() {
        buffers.0.deallocate()
        buffers.1.deallocate()
    }

    mutating func fill(_ batch: LeafBatch, limits: BatchLimits, framing: UnixFSType?) throws {
        batch.count = 0
        let previous = current == 0 ? buffers.1 : buffers.0
        let buffer = current == 0 ? buffers.0 : buffers.1
        current ^= 1
        var end = carryEnd - carryStart
        if end > 0 { buffer.copyMemory(from: previous + carryStart, byteCount: end) }
        while !atEnd && end < capacity {
            let n: Int
            do {
                n = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer + end, count: capacity - end))
            } catch {
                throw ImportError(error.description)
            }
            if n == 0 { atEnd = true } else { end += n }
        }
        let maximum = finder.maximumChunkLength
        var position = 0
        while position < end && batch.count < limits.leaves {
            let remaining = end - position
            if !atEnd && remaining < maximum { break }
            let length = finder.checkedCut(in: UnsafeRawBufferPointer(start: buffer + position, count: remaining))
            batch.append(UnsafeRawBufferPointer(start: buffer + position, count: length), framing: framing)
            position += length
        }
        carryStart = position
        carryEnd = end
    }

    mutating func release(_ batch: LeafBatch) {}
}

// MARK: - Hashing

/// Hashes a batch's leaves on `threads` threads with the CPU's best kernel for the algorithm
/// (`HashKernel.selected`: multi-buffer SHA-NI/AVX-512 lanes for sha2-256, the library
/// otherwise). Workers claim `lanes` leaves at a time from a shared cursor.
struct LeafHasher: Sendable {
    let kernel: HashKernel
    let threads: Int

    init(algorithm: HashAlgorithm, threads: Int) {
        self.kernel = HashKernel.selected(for: algorithm)
        self.threads = threads
    }

    func hash(_ batch: LeafBatch) {
        let count = batch.count
        guard count > 0 else { return }
        let inputs = UnsafeBufferPointer(start: batch.inputs, count: count)
        let digests = batch.digests
        let group = max(1, kernel.lanes)
        let groups = (count + group - 1) / group
        let workers = min(threads, groups)
        if workers <= 1 {
            kernel.hash(inputs, into: digests)
            return
        }
        let cursor = HashCursor()
        let job = HashJob(kernel: kernel, inputs: inputs, digests: digests)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let g = cursor.next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard g < groups else { return }
                let start = g * group
                let range = start..<min(start + group, count)
                job.kernel.hash(UnsafeBufferPointer(rebasing: job.inputs[range]), into: job.digests + start)
            }
        }
    }
}

final class HashCursor: Sendable {
    let next = Atomic<Int>(0)
}

struct HashJob: @unchecked Sendable {
    let kernel: HashKernel
    let inputs: UnsafeBufferPointer<HashInput>
    let digests: UnsafeMutablePointer<Digest>
}

/// Runs `LeafHasher.hash` for one batch at a time on a background queue.
final class HashStage: @unchecked Sendable {
    let hasher: LeafHasher
    let queue = DispatchQueue(label: "cairn.unixfs.hash")
    let done = DispatchSemaphore(value: 0)

    init(hasher: LeafHasher) { self.hasher = hasher }

    func start(_ batch: LeafBatch) {
        queue.async { [self] in
            hasher.hash(batch)
            done.signal()
        }
    }

    func wait() { done.wait() }
}

// MARK: - Assembly

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
            let input = batch.inputs[i]
            let block = BlockBytes(prefix: input.prefix, body: input.body, suffix: input.suffix)
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
                heldLeaf = (cid, block.array, Array(input.body))
            } else {
                try sink.put(cid, block)
                blockCount += 1
            }
            let length = UInt64(input.body.count)
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
