import CairnSystem

/// Where a `CARReader` reads from: sequential reads only (files, pipes, memory).
public protocol CARSource {
    /// Reads up to `buffer.count` bytes into `buffer`; returns 0 at the end of the input.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(CARError) -> Int
    /// Total size in bytes when known (regular files, memory); nil for pipes.
    var size: UInt64? { get }
}

/// A CAR in memory.
public struct CARMemorySource: CARSource, Sendable {
    public let bytes: [UInt8]
    private var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var size: UInt64? { UInt64(bytes.count) }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = min(buffer.count, bytes.count - position)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { raw in
            buffer.baseAddress!.copyMemory(from: raw.baseAddress! + position, byteCount: n)
        }
        position += n
        return n
    }
}

/// A CAR read from a file descriptor with `read(2)` (a file, or standard input).
public final class CARFileSource: CARSource {
    private let file: InputFile
    public let size: UInt64?
    public var descriptor: Int32 { file.descriptor }
    public var name: String { file.name }

    /// Opens `path` (`-` = standard input).
    public init(path: String) throws(CARError) {
        do { file = try InputFile(path: path) } catch { throw CARError(.io, error.description) }
        size = file.remainingSize
        #if os(Linux)
        if path != "-" { _ = posix_fadvise(file.descriptor, 0, 0, Int32(POSIX_FADV_SEQUENTIAL)) }
        #endif
    }

    /// Reads an open descriptor (not closed here).
    public init(descriptor: Int32, name: String = "input") {
        file = InputFile(descriptor: descriptor, name: name)
        size = file.remainingSize
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(CARError) -> Int {
        do { return try file.read(into: buffer) } catch { throw CARError(.io, error.description) }
    }
}
