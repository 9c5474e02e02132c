public import Chunking
import Hashing
public import Multiformats
public import Blocks

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
    public private(set) var threads: Int
    /// Target bytes of file content per batch (the read-ahead bound). The default is 16 MiB, or
    /// enough for every thread to fill all lanes of the hash kernel with the largest chunks.
    public var batchBytes: Int {
        didSet { batchBytesChosen = true }
    }
    /// A memory-mapped file costs no buffer, so with fixed-size chunks its batches default to
    /// 64 MiB (fewer hand-offs to the hashing threads), unless `batchBytes` was set. A
    /// content-defined chunker keeps the default (the first and last batches do not overlap
    /// chunking with hashing, so they should be short).
    private(set) var batchBytesChosen = false
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

    /// This importer for an import that runs beside `count` busy threads of its caller's own
    /// (e.g. a blob's digest, spec/oci.md §5): with a fixed-size chunker, `count` fewer hashing
    /// threads (at least one), since more runnable threads than cores only take turns; a
    /// content-defined chunker keeps its threads (it chunks on them, and was slower without).
    public func beside(busyThreads count: Int) -> FileImporter {
        guard parameters.chunker.isFixedSize else { return self }
        var copy = self
        copy.threads = max(1, threads - max(0, count))
        return copy
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
        if let kind = InputFile.specialKind(path) {
            throw ImportError(.unsupportedFile, "unrecognized file type for \(path) (\(kind)): only regular files, directories and symlinks can be added")
        }
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
        // Mapped: fixed-size chunks, small files whatever the chunker (no buffers, no reader
        // thread per file; a few faults cost less than either), and large files with a
        // content-defined chunker and several threads (cut by the parallel chunker).
        let parallelChunking = !parameters.chunker.isFixedSize && threads > 1 && size > FileImporter.smallMappedBytes
        if memoryMapFiles && regular && size > 0
            && (parameters.chunker.isFixedSize || size <= FileImporter.smallMappedBytes || parallelChunking) {
            let mapped = try MappedFile.withMapping(fd, size: size) { region in
                var producer = RegionProducer(region, finder: Chunker(parameters.chunker), release: true,
                                              parallelThreads: parallelChunking ? threads : 1)
                return try run(&producer, into: &sink, metadata: metadata, mapped: true)
            }
            if let mapped {
                var after = stat()
                if mapped.damaged || fstat(fd, &after) != 0 || Int(after.st_size) != size {
                    throw ImportError(.changed, "\(name) changed size while it was being read")
                }
                return mapped.result
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
}
