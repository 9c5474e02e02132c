import CairnTestSupport
import Chunking

import CairnSystem

/// The boundary-list text of the shared vectors: one `OFFSET LENGTH\n` line per chunk.
func listText(_ boundaries: [ChunkBoundary]) -> String {
    var text = ""
    text.reserveCapacity(boundaries.count * 16)
    for b in boundaries { text += "\(b.offset) \(b.length)\n" }
    return text
}

/// Boundaries of a whole in-memory input (zero-copy path).
func boundaries(_ finder: some ChunkBoundaryFinder, of bytes: [UInt8]) -> [ChunkBoundary] {
    var result: [ChunkBoundary] = []
    bytes.withUnsafeBytes { raw in
        finder.forEachChunk(in: raw) { offset, chunk in
            result.append(ChunkBoundary(offset: offset, length: chunk.count))
        }
    }
    return result
}

/// Boundaries through the streaming reader.
func streamedBoundaries<Source: ByteSource>(_ finder: some ChunkBoundaryFinder, from source: inout Source, blockSize: Int = 1 << 20) throws -> [ChunkBoundary] {
    let reader = ChunkReader(finder: finder, blockSize: blockSize)
    return try reader.boundaries(of: &source)
}

/// A source that hands out the bytes of `base` in pieces of random size (1 byte … `largest`).
struct RandomlySplitSource<Base: ByteSource>: ByteSource {
    var base: Base
    var random: SplitMix64
    let largest: Int

    init(_ base: Base, seed: UInt64, largest: Int) {
        self.base = base
        self.random = SplitMix64(seed: seed)
        self.largest = largest
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ChunkingError) -> Int {
        // Log-uniform sizes: as many tiny reads as large ones.
        let bits = Int(random.next() % UInt64(Int.bitWidth - largest.leadingZeroBitCount))
        let size = Swift.max(1, Swift.min(Int(random.next() % (UInt64(1) << UInt64(bits)) + 1), largest, buffer.count))
        return try base.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size]))
    }
}

/// Inputs of the shared vectors, generated once per process and shared by all tests.
enum InputCache {
    nonisolated(unsafe) private static var cache: [String: [UInt8]] = [:]
    private static let lock = Mutex()

    static func input(_ name: String) -> [UInt8] {
        lock.withLock {
            if let bytes = cache[name] { return bytes }
            guard let bytes = Vectors.input(named: name) else { fatalError("unknown input \(name)") }
            cache[name] = bytes
            return bytes
        }
    }
}

/// A minimal pthread mutex (the test target links no Synchronization helpers of its own).
final class Mutex: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

/// A temporary file holding `bytes`; removed by `remove()`.
struct TemporaryFile {
    let path: String

    init(_ bytes: [UInt8]) throws {
        var template = Array("/tmp/cairn-chunk-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw TestFailure("mkstemp failed") }
        path = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
        defer { close(fd) }
        try bytes.withUnsafeBytes { raw in
            var written = 0
            while written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                guard n > 0 else { throw TestFailure("write failed") }
                written += n
            }
        }
    }

    func remove() { unlink(path) }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
