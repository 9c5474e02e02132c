import CairnSystem
import Foundation

/// `oci add`'s checks of blobs as stored, run ahead of the import on threads of their own
/// (spec/oci.md §5): up to `concurrent` blobs are checked at the same time, the one being
/// imported and the next ones in walk order, each mapped and read by its checkers
/// (`MappedBlobImport.checkMapped`) while the importer maps and reads the same bytes again (the
/// page cache holds them). A blob's serial digests (a layer's blob digest and tar digest) are
/// then no longer the whole process's longest chain: two layers' chains run side by side.
///
/// The importer asks for blob `index` in order: `region(index)` waits until its reader exists
/// (a missing blob or a wrong size fails there, before any byte is imported) and lets the
/// checks of later blobs start; `checked(index)` waits for its checks and returns the reader
/// with its `check`, or throws the first failure. `stop` ends every check and waits for the
/// threads; it must be called before the object goes.
final class CheckAhead: @unchecked Sendable {
    private enum State {
        case waiting
        case running(BlobReader, region: (file: SharedFile, offset: Int64, length: Int64))
        case done(BlobReader, region: (file: SharedFile, offset: Int64, length: Int64))
        case failed(any Error)
        /// Only digested (`BlobReader.checksStream` false): left to the importer's one pass.
        case light(BlobReader)
        /// Handed to the importer (the reader is let go of here).
        case taken
    }

    private let condition = NSCondition()
    private var states: [State]
    /// The next blob a worker takes.
    private var nextToCheck = 0
    /// The blob the importer is at; workers take blobs up to `importing + concurrent - 1`.
    private var importing = 0
    private var stopped = false
    private var running: [Int: MappedPositions] = [:]
    private var workersLeft: Int
    private let concurrent: Int
    private let makeReader: (Int) throws -> BlobReader

    /// `makeReader(index)` opens blob `index`'s reader (on a worker thread).
    init(count: Int, concurrent: Int, makeReader: @escaping (Int) throws -> BlobReader) {
        states = Array(repeating: .waiting, count: count)
        self.concurrent = max(1, concurrent)
        self.makeReader = makeReader
        workersLeft = min(self.concurrent, count)
        for _ in 0..<workersLeft {
            let thread = Thread { [self] in work() }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Blob `index`'s reader and where its stored bytes are, once it is open; a nil region:
    /// the blob is only digested, and its reader was not used (the importer checks it in its
    /// one pass, `MappedBlobImport.importBlob`).
    func region(_ index: Int) throws -> (reader: BlobReader, region: (file: SharedFile, offset: Int64, length: Int64)?) {
        condition.lock()
        defer { condition.unlock() }
        importing = index
        condition.broadcast()
        while true {
            switch states[index] {
            case .waiting: condition.wait()
            case .running(let reader, let region): return (reader, region)
            case .done(let reader, let region): return (reader, region)
            case .failed(let error): throw error
            case .light(let reader):
                states[index] = .taken
                return (reader, nil)
            case .taken: preconditionFailure("blob \(index) was asked for twice")
            }
        }
    }

    /// Blob `index`'s reader once every check passed.
    func checked(_ index: Int) throws -> BlobReader {
        condition.lock()
        defer { condition.unlock() }
        while true {
            switch states[index] {
            case .waiting, .running: condition.wait()
            case .done(let reader, _), .light(let reader):
                states[index] = .taken
                return reader
            case .failed(let error): throw error
            case .taken: preconditionFailure("blob \(index) was asked for twice")
            }
        }
    }

    /// Stops the checks under way and those not begun, and waits until every worker ended.
    func stop() {
        condition.lock()
        defer { condition.unlock() }
        stopped = true
        for positions in running.values { positions.stop() }
        condition.broadcast()
        while workersLeft > 0 { condition.wait() }
    }

    private func work() {
        condition.lock()
        while true {
            while !stopped && nextToCheck < states.count && nextToCheck >= importing + concurrent { condition.wait() }
            guard !stopped, nextToCheck < states.count else { break }
            let index = nextToCheck
            nextToCheck += 1
            condition.unlock()
            let state = check(index)
            condition.lock()
            states[index] = state
            running[index] = nil
            condition.broadcast()
        }
        workersLeft -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Opens and checks blob `index` (outside the lock).
    private func check(_ index: Int) -> State {
        do {
            let reader = try makeReader(index)
            if !reader.checksStream { return .light(reader) }
            let region = reader.storedRegion
            let go = condition.withLock {
                states[index] = .running(reader, region: region)
                condition.broadcast()
                return !stopped
            }
            guard go else { return .failed(CancellationError()) }
            let mapped = try MappedBlobImport.checkMapped(reader) { positions in
                condition.withLock {
                    running[index] = positions
                    if stopped { positions.stop() }
                }
            }
            // Stopped (an earlier blob failed, or the add ended) between two 1 MiB reads.
            if !mapped { _ = try reader.drain(while: { condition.withLock { !stopped } }) }
            return .done(reader, region: region)
        } catch {
            return .failed(error)
        }
    }
}
