public import Chunking
internal import CCairnSystem
import Dispatch
import Hashing
public import Multiformats
public import Blocks
import Synchronization

import CairnSystem

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
/// Cancellation: `cancellation` (the process's token by default) is checked before every
/// batch; the import then throws `CancellationError`.
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
    /// Checked before every batch.
    public var cancellation: CancellationToken = .process
    /// Called on the importing thread after each batch with the content bytes done so far.
    public var progress: (@Sendable (UInt64) -> Void)? = nil

    /// - Parameters:
    ///   - parameters: validated here.
    ///   - threads: hashing threads; nil = the processors available (`Processors.threads`).
    public init(parameters: ImportParameters = .kuboDefault, threads: Int? = nil) throws(ImportOptionsError) {
        try parameters.validate()
        self.parameters = parameters
        self.threads = Processors.threads(threads)
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
    /// `metadata` goes into the file's root (which is then never a raw block). With two or more
    /// threads the source is read on the hashing stage's thread too, so it is handed over.
    public func importStream<Source: ByteSource, Sink: BlockSink>(_ source: sending Source, into sink: inout Sink,
                                                                  metadata: UnixFSMetadata = UnixFSMetadata()) throws -> ImportResult {
        // One thread reads each buffer itself as the chunker reaches it, so two buffers do.
        var producer = ReadAheadProducer(source: source, finder: Chunker(parameters.chunker), bufferBytes: readAheadBytes,
                                         depth: threads > 1 ? FileImporter.readAheadDepth : 2)
        defer { producer.finish() }
        return try run(&producer, into: &sink, metadata: metadata)
    }

    /// Bytes per read-ahead buffer (one batch each): the batch size when it was set, else
    /// ``readAheadBufferBytes``; never less than the longest chunk.
    var readAheadBytes: Int {
        max(batchBytesChosen ? batchBytes : FileImporter.readAheadBufferBytes, parameters.chunker.maximumChunkLength)
    }
    /// Read-ahead buffers are small enough that the ones in flight (being read, chunked and
    /// hashed) stay in the last-level cache: the chunker and the hashers then read them from
    /// cache, not from memory.
    static let readAheadBufferBytes = 8 << 20
    static let readAheadDepth = 3
    /// Files up to this size are memory-mapped even with a content-defined chunker.
    static let smallMappedBytes = 4 << 20

    /// Imports the file at `path` (`-` = standard input).
    public func importFile<Sink: BlockSink>(atPath path: String, into sink: inout Sink,
                                            metadata: UnixFSMetadata = UnixFSMetadata()) throws -> ImportResult {
        if path == "-" { return try importFile(descriptor: 0, into: &sink, metadata: metadata) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImportError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        return try importFile(descriptor: fd, into: &sink, name: path, metadata: metadata)
    }

    /// Imports from an open descriptor (not closed): memory-mapped when it is a regular file.
    public func importFile<Sink: BlockSink>(descriptor fd: Int32, into sink: inout Sink, name: String = "input",
                                            metadata: UnixFSMetadata = UnixFSMetadata()) throws -> ImportResult {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ImportError(.io, "cannot stat \(name): \(String(cString: strerror(errno)))") }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw ImportError(.unsupportedFile, "\(name) is a directory") }
        let size = Int(info.st_size)
        let regular = (info.st_mode & S_IFMT) == S_IFREG
        // Mapped: fixed-size chunks, and small files whatever the chunker (no buffers, no reader
        // thread per file; a few faults cost less than either).
        if memoryMapFiles && regular && size > 0 && (parameters.chunker.isFixedSize || size <= FileImporter.smallMappedBytes) {
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
                    let result = try run(&producer, into: &sink, metadata: metadata, mapped: true)
                    var after = stat()
                    if ccairn_guard_damaged(guardSlot) != 0 || fstat(fd, &after) != 0 || Int(after.st_size) != size {
                        throw ImportError(.changed, "\(name) changed size while it was being read")
                    }
                    return result
                }
            }
        }
        // A regular file read from offset `start` must give exactly `size − start` bytes and keep
        // its size. Files that report no size (procfs, sysfs) are read to their end unchecked.
        let start = regular ? Int(lseek(fd, 0, SEEK_CUR)) : -1
        let checked = regular && size > 0 && start >= 0 && start <= size
        if regular { _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL)) }
        let result = try importStream(FileDescriptorSource(fileDescriptor: fd), into: &sink, metadata: metadata)
        if checked {
            var after = stat()
            if fstat(fd, &after) != 0 || Int(after.st_size) != size || result.fileSize != UInt64(size - start) {
                throw ImportError(.changed, "\(name) changed size while it was being read")
            }
        }
        return result
    }

    // MARK: The pipeline

    private func checkCancelled() throws {
        try cancellation.check()
    }

    private func run<Producer: ChunkProducer, Sink: BlockSink>(_ producer: inout Producer, into sink: inout Sink,
                                                               metadata: UnixFSMetadata = UnixFSMetadata(),
                                                               mapped: Bool = false) throws -> ImportResult {
        if !metadata.isEmpty && parameters.rawLeaves {
            throw ImportError(.invalidParameters, "a file root with mode or mtime must be dag-pb: turn raw leaves off")
        }
        let factory = CIDFactory(parameters)
        var assembler = Assembler(parameters: parameters, factory: factory)
        assembler.metadata = metadata
        // A content-defined chunker keeps this thread busy, so the hashing stage leaves it a
        // core of its own; with fixed-size chunks this thread mostly waits, so hashing takes all.
        var hashThreads = threads
        if !parameters.chunker.isFixedSize && threads > 1 { hashThreads = threads - 1 }
        let hasher = BatchHasher(algorithm: parameters.hashAlgorithm, threads: hashThreads)
        let capacity = max(1, batchLeaves)
        let batches = [LeafBatch(capacity: capacity), LeafBatch(capacity: capacity)]
        let framing = parameters.rawLeaves ? nil : (parameters.layout == .balanced ? UnixFSType.file : UnixFSType.raw)
        let limits = BatchLimits(
            bytes: mapped && !batchBytesChosen && parameters.chunker.isFixedSize
                ? max(batchBytes, FileImporter.mappedBatchBytes) : max(1, batchBytes),
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
        // On every exit, errors included, no hashing worker may still read a batch (or read
        // ahead into a buffer) when the producer's memory goes away: drain the stage.
        defer { stage.drain() }
        // Reading ahead runs on the hashing stage's thread between batches, and on this thread
        // whenever it would otherwise wait: two busy threads for two kinds of work, none of them
        // preempting the chunker.
        let background = producer.backgroundTask
        if let background { stage.enqueue(background) }
        var inFlight: LeafBatch? = nil
        var index = 0
        while true {
            try checkCancelled()
            let batch = batches[index & 1]
            try producer.fill(batch, limits: limits, framing: framing)
            if batch.count > 0 { stage.start(batch) }
            if let previous = inFlight {
                inFlight = nil
                // While the hashing stage is behind, this thread takes over work the producer
                // would otherwise do in the background (reading ahead).
                while !stage.poll() && producer.workAhead() {}
                stage.wait()
                try assembler.assemble(previous, into: &sink)
                producer.release(previous)
                if let background { stage.enqueue(background) }
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
    /// Does one piece of the producer's background work (a read ahead) on the calling thread,
    /// if there is one to do right now; returns whether it did.
    mutating func workAhead() -> Bool
    /// Background work (reading ahead) to run on the hashing stage's thread, between batches.
    var backgroundTask: (@Sendable () -> Void)? { get }
}

extension ChunkProducer {
    mutating func workAhead() -> Bool { false }
    var backgroundTask: (@Sendable () -> Void)? { nil }
}

/// Chunks a contiguous region (a memory map or caller memory) in place.
struct RegionProducer: ChunkProducer {
    let region: UnsafeRawBufferPointer
    let finder: Chunker
    let release: Bool
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
    }

    mutating func release(_ batch: LeafBatch) {
        guard release, batch.count > 0, let base = region.baseAddress else { return }
        let last = batch.inputs[batch.count - 1].body
        let end = (last.baseAddress! - base) + last.count
        let upTo = end / pageSize * pageSize
        if upTo > released {
            _ = madvise(UnsafeMutableRawPointer(mutating: base + released), upTo - released, Int32(MADV_DONTNEED))
            released = upTo
        }
    }
}

/// Reads a `ByteSource` into a ring of `depth` buffers. With one thread the chunker reads each
/// buffer as it reaches it; with two or more, buffers are read ahead (see ``ReadAheadReader``),
/// so that reading overlaps chunking and hashing.
///
/// Each buffer keeps room for one chunk in front of its data: when the chunker reaches the end of
/// a buffer, the bytes after its last whole chunk (shorter than the longest chunk) are copied
/// just in front of the next buffer's data, so every chunk is contiguous. A batch never spans two
/// buffers; a buffer goes back to the reader once every batch that took chunks from it has been
/// released.
struct ReadAheadProducer<Source: ByteSource>: ChunkProducer {
    let reader: ReadAheadReader<Source>
    let finder: Chunker
    let maximum: Int
    /// Index, in reading order, of the buffer being chunked (−1 before the first).
    var sequence = -1
    var current = 0
    var position = 0
    var end = 0
    var atEnd = false
    /// Non-empty batches filled and released so far.
    var fills = 0
    var releases = 0
    /// Per buffer: the last fill that took chunks from it.
    var lastUse: [Int]
    /// Buffers left behind by the chunker, each free once that fill is released.
    var retired: [(buffer: Int, fill: Int)] = []

    init(source: sending Source, finder: Chunker, bufferBytes: Int, depth: Int) {
        self.finder = finder
        self.maximum = finder.maximumChunkLength
        let head = (maximum + 63) / 64 * 64
        self.reader = ReadAheadReader(source: source, head: head, body: max(bufferBytes, maximum), depth: max(2, depth))
        self.lastUse = Array(repeating: 0, count: reader.depth)
        for _ in 0..<reader.depth { reader.schedule() }
    }

    /// Waits for the reader to stop, then frees the buffers.
    func finish() { reader.deallocate() }

    /// Moves to the next buffer in reading order, carrying the unchunked tail over.
    private mutating func advance() throws {
        let previous = sequence >= 0 ? current : nil
        sequence += 1
        let next = sequence % reader.depth
        // Read it here unless someone else already is (whoever holds the source reads every
        // scheduled ticket in order, this one included).
        while reader.ready[next].wait(timeout: .now()) != .success {
            if !reader.tryRead() {
                reader.ready[next].wait()
                break
            }
        }
        if let failure = reader.failures[next] { throw ImportError(.io, failure.description) }
        let carry = end - position
        precondition(carry <= reader.head, "read-ahead carry longer than the longest chunk")
        let data = reader.buffers[next] + reader.head
        if carry > 0, let previous {
            (data - carry).copyMemory(from: reader.buffers[previous] + position, byteCount: carry)
        }
        current = next
        position = reader.head - carry
        end = reader.head + reader.lengths[next]
        atEnd = reader.ends[next]
        if let previous {
            retired.append((previous, lastUse[previous]))
            freeRetired()
        }
    }

    private mutating func freeRetired() {
        while let first = retired.first, first.fill <= releases {
            retired.removeFirst()
            reader.schedule()
        }
    }

    mutating func fill(_ batch: LeafBatch, limits: BatchLimits, framing: UnixFSType?) throws {
        batch.count = 0
        if sequence < 0 { try advance() }
        while true {
            let base = reader.buffers[current]
            var bytes = 0
            while batch.count < limits.leaves && bytes < limits.bytes {
                let remaining = end - position
                if remaining == 0 || (!atEnd && remaining < maximum) { break }
                let length = finder.checkedCut(in: UnsafeRawBufferPointer(start: base + position, count: remaining))
                batch.append(UnsafeRawBufferPointer(start: base + position, count: length), framing: framing)
                position += length
                bytes += length
            }
            // Stop at a full batch, at the input's end, or at the end of this buffer once the
            // batch holds something (the next fill moves on, after this batch is handed over).
            if batch.count > 0 || atEnd { break }
            try advance()
        }
        if batch.count > 0 {
            fills += 1
            lastUse[current] = fills
        }
    }

    mutating func release(_ batch: LeafBatch) {
        guard batch.count > 0 else { return }
        releases += 1
        freeRetired()
    }

    mutating func workAhead() -> Bool { reader.tryRead() }

    var backgroundTask: (@Sendable () -> Void)? { readAheadTask(reader) }
}

/// What the hashing stage's thread does for a read-ahead ring between batches.
protocol ScheduledReading: AnyObject, Sendable {
    func readScheduled()
}

/// The background task of a read-ahead ring, built outside the generic producer so that it
/// captures no type metadata.
private func readAheadTask(_ reader: any ScheduledReading) -> @Sendable () -> Void {
    { reader.readScheduled() }
}

/// The reading side of ``ReadAheadProducer``. Reads are tickets taken in order: ticket `t`
/// fills buffer `t % depth` with the next bytes of the source, then signals `ready[t % depth]`.
/// Tickets are taken by the hashing stage's thread between batches (``readScheduled()``) and by
/// the importing thread when it would otherwise wait (``tryRead()``) or needs a buffer no one
/// has read yet. Whoever holds `reading` reads, so reads stay in order; the per-buffer results
/// are written before the signal and read after the wait.
final class ReadAheadReader<Source: ByteSource>: ScheduledReading, @unchecked Sendable {
    struct Reading: ~Copyable {
        var source: Source
        /// Tickets taken so far.
        var taken = 0
        var ended = false
    }

    let reading: Mutex<Reading>
    let head: Int
    let body: Int
    let depth: Int
    let buffers: UnsafeMutablePointer<UnsafeMutableRawPointer>
    let lengths: UnsafeMutablePointer<Int>
    let ends: UnsafeMutablePointer<Bool>
    let failures: UnsafeMutablePointer<ChunkingError?>
    let ready: [DispatchSemaphore]
    /// Tickets scheduled so far (only the importing thread adds to it).
    let scheduled = Atomic<Int>(0)

    init(source: sending Source, head: Int, body: Int, depth: Int) {
        self.reading = Mutex(Reading(source: source))
        self.head = head
        self.body = body
        self.depth = depth
        buffers = .allocate(capacity: depth)
        for i in 0..<depth { buffers[i] = .allocate(byteCount: head + body, alignment: 64) }
        lengths = .allocate(capacity: depth)
        lengths.initialize(repeating: 0, count: depth)
        ends = .allocate(capacity: depth)
        ends.initialize(repeating: false, count: depth)
        failures = .allocate(capacity: depth)
        failures.initialize(repeating: nil, count: depth)
        ready = (0..<depth).map { _ in DispatchSemaphore(value: 0) }
    }

    /// Schedules the next ticket; it fills buffer `scheduled % depth`.
    func schedule() {
        scheduled.wrappingAdd(1, ordering: .releasing)
    }

    /// Reads one scheduled ticket on the calling thread unless another thread is reading or
    /// nothing is scheduled; returns whether it read.
    func tryRead() -> Bool {
        reading.withLockIfAvailable { state in takeTicket(&state) } ?? false
    }

    /// Reads every scheduled ticket, unless another thread is reading (it then reads them).
    func readScheduled() {
        _ = reading.withLockIfAvailable { state in
            while takeTicket(&state) {}
        }
    }

    private func takeTicket(_ state: inout Reading) -> Bool {
        guard state.taken < scheduled.load(ordering: .acquiring) else { return false }
        let i = state.taken % depth
        state.taken += 1
        var n = 0
        var failure: ChunkingError? = nil
        let data = buffers[i] + head
        while !state.ended && n < body {
            do throws(ChunkingError) {
                let got = try state.source.read(into: UnsafeMutableRawBufferPointer(start: data + n, count: body - n))
                if got == 0 { state.ended = true } else { n += got }
            } catch {
                failure = error
                state.ended = true
            }
        }
        lengths[i] = n
        ends[i] = state.ended
        failures[i] = failure
        ready[i].signal()
        return true
    }

    /// Frees the buffers; no read may be in progress (the hashing stage has been drained).
    func deallocate() {
        for i in 0..<depth { buffers[i].deallocate() }
        buffers.deallocate()
        lengths.deallocate()
        ends.deallocate()
        failures.deinitialize(count: depth)
        failures.deallocate()
    }
}

// MARK: - Hashing

extension BatchHasher {
    /// Hashes a batch's leaves into its digest slots.
    func hash(_ batch: LeafBatch) {
        hash(UnsafeBufferPointer(start: batch.inputs, count: batch.count),
             into: UnsafeMutableBufferPointer(start: batch.digests, count: batch.count))
    }
}

/// Runs the hashing of one batch at a time on the hasher's workers, in the order the batches
/// were started, while the importing thread chunks the next batch.
final class HashStage: @unchecked Sendable {
    let hasher: BatchHasher
    let queue = DispatchQueue(label: "cairn.unixfs.hash")
    let done = DispatchSemaphore(value: 0)
    /// `poll` saw the oldest started batch finish (and took its signal).
    private var finished = false

    init(hasher: BatchHasher) { self.hasher = hasher }

    func start(_ batch: LeafBatch) {
        let hasher = hasher
        queue.async { [done] in
            hasher.hash(batch)
            done.signal()
        }
    }

    /// Waits until the oldest started batch is hashed.
    func wait() {
        if finished {
            finished = false
        } else {
            done.wait()
        }
    }

    /// Runs `task` on the stage's thread after the batches started so far.
    func enqueue(_ task: @escaping @Sendable () -> Void) {
        queue.async(execute: task)
    }

    /// Waits until every started batch is hashed (whatever `wait` has or has not consumed).
    func drain() {
        queue.sync {}
    }

    /// Whether the oldest started batch is hashed, without waiting.
    func poll() -> Bool {
        if !finished { finished = done.wait(timeout: .now()) == .success }
        return finished
    }
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
