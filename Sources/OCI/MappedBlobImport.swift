import CairnSystem
import Foundation
import UnixFS
import Blocks

/// `oci add` of a blob as stored (spec/oci.md §5): the blob's bytes are mapped once and read in
/// place by two threads at the same time, with no copy and no read buffer: the importer chunks
/// and hashes them on this thread (and its hashing threads) while a checker thread computes the
/// blob's digest, decompresses a layer and hashes and scans its tar (`BlobReader`). Memory stays
/// bounded whatever the blob's size: neither reader runs more than `window` bytes ahead of the
/// other (the faster one waits), and the pages both are done with are dropped from the mapping
/// (`MADV_DONTNEED`; they stay in the page cache).
enum MappedBlobImport {
    /// The most bytes one reader may run ahead of the other.
    static let window = 2 << 20
    /// The importer's batches (it touches the pages of one batch beyond what it reported done).
    static let batchBytes = 4 << 20
    /// Bytes the checker takes at a time.
    static let step = 1 << 20

    /// Imports the blob of `reader` with `importer`; nil when its bytes cannot be mapped (the
    /// caller then streams it). Throws the first failed check after the import, as `read` would.
    static func importBlob<Sink: BlockSink>(_ reader: BlobReader, importer: FileImporter, into sink: inout Sink) throws -> ImportResult? {
        let (file, offset, length) = reader.storedRegion
        guard length > 0, length <= Int64(Int.max) else { return nil }
        let mapped = try MappedFile.withMapping(file.fd, offset: offset, length: Int(length)) { region in
            try importMapped(region, reader: reader, importer: importer, into: &sink)
        }
        guard let mapped else { return nil }
        if mapped.damaged { throw OCIError(.io, "\(reader.name): the file changed while it was read") }
        return mapped.result
    }

    private static func importMapped<Sink: BlockSink>(_ region: UnsafeRawBufferPointer, reader: BlobReader,
                                                      importer: FileImporter, into sink: inout Sink) throws -> ImportResult {
        let positions = MappedPositions(region, window: window)
        var importer = importer
        importer.batchBytes = min(importer.batchBytes, batchBytes)
        importer.progress = { done in positions.advance(.importer, to: Int(done)) }
        let checked = DispatchSemaphore(value: 0)
        let shared = UncheckedSendable((reader, region))  // only the checker uses the reader until `checked`
        let checker = Thread {
            let (reader, region) = shared.value
            var position = 0
            while position < region.count && positions.advance(.checker, to: position) {
                let count = min(step, region.count - position)
                reader.checkStored(UnsafeRawBufferPointer(rebasing: region[position..<position + count]))
                position += count
            }
            positions.end(.checker)
            checked.signal()
        }
        checker.stackSize = 1 << 20
        checker.start()
        let result: ImportResult
        do {
            result = try importer.importBytes(region, into: &sink)
        } catch {
            positions.stop()
            checked.wait()
            throw error
        }
        positions.end(.importer)
        checked.wait()
        try CancellationToken.process.check()
        try reader.endStored()
        return result
    }
}

/// How far each of two readers of one mapped region got; keeps them within `window` bytes of
/// each other and drops the pages both passed.
final class MappedPositions: @unchecked Sendable {
    enum Side: Int { case importer = 0, checker = 1 }

    private let condition = NSCondition()
    private var position = [0, 0]
    private var ended = [false, false]
    private var stopped = false
    private let region: UnsafeRawBufferPointer
    private let window: Int
    private let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    /// Bytes of the region (from its first whole page) already dropped.
    private var released = 0

    init(_ region: UnsafeRawBufferPointer, window: Int) {
        self.region = region
        self.window = window
    }

    /// `side` is done with the bytes before `offset`; waits while it is more than `window` bytes
    /// ahead of the other one. False once the import stopped (or the process was cancelled).
    @discardableResult
    func advance(_ side: Side, to offset: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        position[side.rawValue] = offset
        release()
        condition.broadcast()
        let other = 1 - side.rawValue
        while !stopped && !ended[other] && offset - position[other] > window {
            if CancellationToken.process.isCancelled { stopped = true; break }
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.1))
        }
        return !stopped
    }

    /// `side` read everything (or gave up): the other one no longer waits for it.
    func end(_ side: Side) {
        condition.withLock {
            ended[side.rawValue] = true
            position[side.rawValue] = region.count
            condition.broadcast()
        }
    }

    /// The import failed: the checker stops at its next step.
    func stop() {
        condition.withLock {
            stopped = true
            condition.broadcast()
        }
    }

    /// Drops the whole pages before both positions (under the lock).
    private func release() {
        guard let base = region.baseAddress else { return }
        let first = Int(bitPattern: base) / pageSize * pageSize
        let end = (Int(bitPattern: base) + min(position[0], position[1])) / pageSize * pageSize
        guard end - first > released else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: first + released), end - first - released, Int32(MADV_DONTNEED))
        released = end - first
    }
}
