public import Chunking
import Foundation

import CairnSystem

/// One input of `cairn bench chunkers`: a file or a directory walked as `add -r` walks it, or a
/// byte stream made above Engine (an image layer as stored or as its tar: the command wires the
/// OCI readers in through `stream`, so Engine never imports OCI).
public enum ChunkerBenchInput: Sendable {
    case path(String)
    /// `open` gives a new stream from its first byte each time it is called (once per chunker
    /// and pass); `bytes` is its length when known (for progress only).
    case stream(label: String, bytes: Int?, open: @Sendable () throws -> ChunkerBenchStream)

    /// The name printed in the `input` column.
    public var label: String {
        switch self {
        case .path(let path): return path
        case .stream(let label, _, _): return label
        }
    }

    /// The regular files whose bytes make this input, in the order `add -r` imports them: entry
    /// names in byte order, names starting with `.` below the argument skipped, symlinks not
    /// followed (they hold no content bytes); none for a stream. Throws
    /// `EngineError(.invalidInput)` if the path cannot be read.
    public func streams() throws -> [String] {
        switch self {
        case .stream:
            return []
        case .path(let path):
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw EngineError(.invalidInput, "cannot open \(path): \(String(cString: strerror(errno)))")
            }
            if (info.st_mode & S_IFMT) != S_IFDIR {
                guard access(path, R_OK) == 0 else {
                    throw EngineError(.invalidInput, "cannot read \(path): \(String(cString: strerror(errno)))")
                }
                return [path]
            }
            var files: [String] = []
            try Self.walk(path, into: &files)
            return files
        }
    }

    private static func walk(_ directory: String, into files: inout [String]) throws {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw EngineError(.invalidInput, "cannot list \(directory): \(error.localizedDescription)")
        }
        let sorted = names.filter { !$0.hasPrefix(".") }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for name in sorted {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: try walk(path, into: &files)
            case S_IFREG: files.append(path)
            default: continue
            }
        }
    }
}

/// The bytes of a `.stream` input. `ByteSource` can only throw `ChunkingError`, so the reader's
/// own error is kept and the read fails with `EIO`; the bench then reports the kept error.
public struct ChunkerBenchStream: ByteSource, Sendable {
    private let body: @Sendable (UnsafeMutableRawBufferPointer) throws -> Int
    let failure = Failure()

    final class Failure: @unchecked Sendable {
        var error: (any Error)?
    }

    /// `read` fills up to the buffer's size and returns the count, 0 at the end.
    public init(read: @escaping @Sendable (UnsafeMutableRawBufferPointer) throws -> Int) {
        body = read
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ChunkingError) -> Int {
        do { return try body(buffer) } catch {
            failure.error = error
            throw .readFailed(errno: EIO)
        }
    }
}
