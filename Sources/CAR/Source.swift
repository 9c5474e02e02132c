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
    public let descriptor: Int32
    public let name: String
    public let size: UInt64?
    private let owned: Bool

    /// Opens `path` (`-` = standard input).
    public convenience init(path: String) throws(CARError) {
        if path == "-" {
            self.init(descriptor: 0, name: "<stdin>", owned: false)
            return
        }
        let fd: Int32
        do { fd = try SystemCall.open(path, O_RDONLY) } catch { throw CARError(.io, error.description) }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw CARError(.io, "\(path) is a directory")
        }
        self.init(descriptor: fd, name: path, owned: true)
        #if os(Linux)
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        #endif
    }

    /// Reads an open descriptor (not closed here).
    public convenience init(descriptor: Int32, name: String = "input") {
        self.init(descriptor: descriptor, name: name, owned: false)
    }

    private init(descriptor: Int32, name: String, owned: Bool) {
        self.descriptor = descriptor
        self.name = name
        self.owned = owned
        var info = stat()
        if fstat(descriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG {
            let position = lseek(descriptor, 0, SEEK_CUR)
            self.size = position >= 0 ? UInt64(info.st_size) - UInt64(position) : nil
        } else {
            self.size = nil
        }
    }

    deinit {
        if owned { close(descriptor) }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(CARError) -> Int {
        do { return try SystemCall.read(descriptor, into: buffer, path: name) } catch { throw CARError(.io, error.description) }
    }
}
