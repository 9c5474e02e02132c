import CairnSystem
import Foundation
import UnixFS
import Blocks

/// `oci add` of a blob as stored (spec/oci.md §5): the blob's bytes are mapped once and read in
/// place by several threads at the same time, with no copy and no read buffer: the importer
/// chunks and hashes them on this thread (and its hashing threads) while a checker thread
/// computes the blob's digest and, for a layer, another one decompresses it and hashes and
/// scans its tar (`BlobReader`). Memory stays bounded whatever the blob's size: no reader runs
/// more than `window` bytes ahead of the slowest (it waits), and the pages all are done with
/// are dropped from the mapping (`MADV_DONTNEED`; they stay in the page cache).
enum MappedBlobImport {
    /// The most bytes one reader may run ahead of the slowest.
    static let window = 2 << 20
    /// The importer's batches (it touches the pages of one batch beyond what it reported done).
    static let batchBytes = 4 << 20
    /// Bytes a checker takes at a time.
    static let step = 1 << 20

    /// Imports the blob of `reader` with `importer`; nil when its bytes cannot be mapped (the
    /// caller then streams it). Throws the first failed check after the import, as `read` would.
    static func importBlob<Sink: BlockSink>(_ reader: BlobReader, importer: FileImporter, into sink: inout Sink) throws -> ImportResult? {
        try withMapping(reader.storedRegion, name: reader.name) { region in
            try importMapped(region, reader: reader, importer: importer, into: &sink)
        }
    }

    /// Runs `body` over the mapped bytes of `region`; nil when they cannot be mapped (an
    /// empty region, or `mmap` refused), an `io` error when the file shrank meanwhile.
    private static func withMapping<T>(_ region: (file: SharedFile, offset: Int64, length: Int64), name: String,
                                       _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T? {
        guard region.length > 0, region.length <= Int64(Int.max) else { return nil }
        guard let mapped = try MappedFile.withMapping(region.file.fd, offset: region.offset, length: Int(region.length), body) else { return nil }
        if mapped.damaged { throw OCIError(.io, "\(name): the file changed while it was read") }
        return mapped.result
    }

    /// Starts a thread for each checker of `bodies`, reader `firstIndex` onwards; the returned
    /// function waits until every one has ended.
    private static func startCheckers(_ bodies: some Collection<@Sendable (Int, MappedPositions) -> Void>, firstIndex: Int,
                                      _ positions: MappedPositions) -> () -> Void {
        let checked = DispatchSemaphore(value: 0)
        for (offset, body) in bodies.enumerated() {
            // Each checker uses only its own part of the reader until it has ended.
            let thread = Thread {
                body(firstIndex + offset, positions)
                positions.end(firstIndex + offset)
                checked.signal()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        return { for _ in bodies { checked.wait() } }
    }

    /// Imports the bytes of `region` with no checks (`CheckAhead` verifies the blob on other
    /// threads); nil when they cannot be mapped. The pages the importer is done with are dropped.
    static func importUnchecked<Sink: BlockSink>(_ region: (file: SharedFile, offset: Int64, length: Int64), name: String,
                                                 importer: FileImporter, into sink: inout Sink) throws -> ImportResult? {
        try withMapping(region, name: name) { bytes in
            let positions = MappedPositions(bytes, readers: 1, window: window)
            var importer = importer
            importer.batchBytes = min(importer.batchBytes, batchBytes)
            importer.progress = { done in positions.advance(0, to: Int(done)) }
            return try importer.importBytes(bytes, into: &sink)
        }
    }

    /// Runs every check of `reader` over its mapped bytes (the checkers of `importMapped`, with no
    /// importer beside them) and its final checks (`endStored`); false when the bytes cannot be
    /// mapped (nothing was read: the caller drains the reader instead). `started` gets the
    /// positions before the first step, so that another thread may `stop` them.
    static func checkMapped(_ reader: BlobReader, started: (MappedPositions) -> Void) throws -> Bool {
        let stopped = try withMapping(reader.storedRegion, name: reader.name) { region in
            let bodies = checkers(reader, region)
            let positions = MappedPositions(region, readers: bodies.count, window: window)
            started(positions)
            let waitForOthers = startCheckers(bodies.dropFirst(), firstIndex: 1, positions)
            bodies[0](0, positions)
            positions.end(0)
            waitForOthers()
            return positions.wasStopped
        }
        guard let stopped else { return false }
        if stopped {
            try CancellationToken.process.check()
            throw OCIError(.io, "\(reader.name): the check was stopped")
        }
        try reader.endStored()
        return true
    }

    /// The checker threads' bodies over a mapped blob, each given its reader index (see
    /// `importMapped`).
    private static func checkers(_ reader: BlobReader, _ region: UnsafeRawBufferPointer) -> [@Sendable (Int, MappedPositions) -> Void] {
        let paired = reader.checksStream && reader.pairDigests()
        let shared = UncheckedSendable((reader, region))
        if paired {
            let ring = UncheckedSendable(Overlap(slots: 4, slotBytes: 1 << 20))
            return [
                { index, positions in
                    let (reader, region) = shared.value
                    stepping(region, index, positions) { bytes, offset in reader.decompressForPair(bytes, at: offset, ring: ring.value) }
                    ring.value.finishAndWait()
                },
                { index, positions in
                    // Never waits on the others: it follows the decompressing thread.
                    let (reader, region) = shared.value
                    ring.value.consume { tar, range in
                        reader.hashPair(stored: UnsafeRawBufferPointer(rebasing: region[range]), tar: tar)
                        positions.report(index, at: range.upperBound)
                    }
                },
            ]
        }
        let checks: [(BlobReader) -> (UnsafeRawBufferPointer) -> Void] =
            reader.checksStream ? [BlobReader.hashStored, BlobReader.checkStream] : [BlobReader.checkStored]
        return checks.map { check in
            let check = UncheckedSendable(check)
            return { index, positions in
                let (reader, region) = shared.value
                let body = check.value(reader)
                stepping(region, index, positions) { bytes, _ in body(bytes) }
            }
        }
    }

    private static func importMapped<Sink: BlockSink>(_ region: UnsafeRawBufferPointer, reader: BlobReader,
                                                      importer: FileImporter, into sink: inout Sink) throws -> ImportResult {
        // A compressed layer whose two digests are SHA-256 (`pairDigests`): one thread
        // decompresses and scans it and hands each piece of the tar, with as many of the blob's
        // bytes, to a second that hashes the two as the lanes of one SHA-NI kernel
        // (`decompressForPair`, `hashPair`). Other layers: the digest on one thread, the
        // decompression and the tar on another (they share no state: `hashStored`,
        // `checkStream`). Other blobs: the digest. Reader 0 is the importer.
        let bodies = checkers(reader, region)
        let positions = MappedPositions(region, readers: 1 + bodies.count, window: window)
        var importer = importer.beside(busyThreads: bodies.count)
        importer.batchBytes = min(importer.batchBytes, batchBytes)
        importer.progress = { done in positions.advance(0, to: Int(done)) }
        let waitForCheckers = startCheckers(bodies, firstIndex: 1, positions)
        let result: ImportResult
        do {
            result = try importer.importBytes(region, into: &sink)
        } catch {
            positions.stop()
            waitForCheckers()
            throw error
        }
        positions.end(0)
        waitForCheckers()
        try CancellationToken.process.check()
        try reader.endStored()
        return result
    }
}

/// A checker's walk over the mapped region, `MappedBlobImport.step` bytes at a time, each step
/// after `positions` let it (it stays within the window); stops early once the import stopped.
private func stepping(_ region: UnsafeRawBufferPointer, _ index: Int, _ positions: MappedPositions,
                      _ body: (UnsafeRawBufferPointer, Int) -> Void) {
    var position = 0
    while position < region.count && positions.advance(index, to: position) {
        let count = min(MappedBlobImport.step, region.count - position)
        body(UnsafeRawBufferPointer(rebasing: region[position..<position + count]), position)
        position += count
    }
}

/// How far each reader of one mapped region got; keeps each within `window` bytes of the
/// slowest and drops the pages all have passed.
final class MappedPositions: @unchecked Sendable {
    private let condition = NSCondition()
    private var position: [Int]
    private var ended: [Bool]
    private var stopped = false
    private let region: UnsafeRawBufferPointer
    private let window: Int
    private let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    /// Bytes of the region (from its first whole page) already dropped.
    private var released = 0

    init(_ region: UnsafeRawBufferPointer, readers: Int, window: Int) {
        self.region = region
        self.window = window
        position = Array(repeating: 0, count: readers)
        ended = Array(repeating: false, count: readers)
    }

    /// Reader `reader` is done with the bytes before `offset`, and waits for no one (a reader
    /// that follows another one's output).
    func report(_ reader: Int, at offset: Int) {
        condition.withLock {
            position[reader] = offset
            release()
            condition.broadcast()
        }
    }

    /// Reader `reader` is done with the bytes before `offset`; waits while it is more than
    /// `window` bytes ahead of the slowest other one still reading. False once the import
    /// stopped (or the process was cancelled).
    @discardableResult
    func advance(_ reader: Int, to offset: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        position[reader] = offset
        release()
        condition.broadcast()
        while !stopped && offset - slowest(besides: reader) > window {
            if CancellationToken.process.isCancelled { stopped = true; break }
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.1))
        }
        return !stopped
    }

    /// The position of the slowest reader other than `reader` still reading (under the lock).
    private func slowest(besides reader: Int) -> Int {
        position.indices.filter { $0 != reader && !ended[$0] }.map { position[$0] }.min() ?? Int.max
    }

    /// `reader` read everything (or gave up): the others no longer wait for it.
    func end(_ reader: Int) {
        condition.withLock {
            ended[reader] = true
            position[reader] = region.count
            condition.broadcast()
        }
    }

    /// Whether `stop` was called (or the process cancelled) before every reader ended.
    var wasStopped: Bool { condition.withLock { stopped } }

    /// The import failed: the checkers stop at their next step.
    func stop() {
        condition.withLock {
            stopped = true
            condition.broadcast()
        }
    }

    /// Drops the whole pages before every position (under the lock).
    private func release() {
        guard let base = region.baseAddress else { return }
        let first = Int(bitPattern: base) / pageSize * pageSize
        let end = (Int(bitPattern: base) + position.min()!) / pageSize * pageSize
        guard end - first > released else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: first + released), end - first - released, Int32(MADV_DONTNEED))
        released = end - first
    }
}
