import CairnSystem

/// Where a `CARWriter` puts bytes: appended in order, with optional in-place edits of bytes
/// already written (needed for the CARv2 header, and for a root only known at the end).
public protocol CAROutput {
    /// Appends `bytes`.
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(CARError)
    /// True if `replace` works (a regular file or memory, not a pipe).
    var isSeekable: Bool { get }
    /// Replaces the bytes `range` (already written) with `bytes`, shifting what follows when
    /// the lengths differ. Cost: one pass over the bytes after the range when they differ.
    mutating func replace(_ range: Range<UInt64>, with bytes: UnsafeRawBufferPointer) throws(CARError)
    /// Pushes buffered bytes out.
    mutating func flush() throws(CARError)
}

/// A CAR in memory (tests, small exports).
public struct CARMemoryOutput: CAROutput, Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func write(_ data: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: data)
    }

    public var isSeekable: Bool { true }

    public mutating func replace(_ range: Range<UInt64>, with data: UnsafeRawBufferPointer) throws(CARError) {
        guard range.upperBound <= UInt64(bytes.count) else {
            throw CARError(.invalidUse, "replace past the end of the output")
        }
        bytes.replaceSubrange(Int(range.lowerBound)..<Int(range.upperBound), with: data)
    }

    public func flush() {}
}

/// A CAR written to a file descriptor through a 1 MiB buffer; large writes go straight to
/// the file. A regular file opened by path is seekable; standard output usually is not.
public final class CARFileOutput: CAROutput {
    public let descriptor: Int32
    public let name: String
    private let owned: Bool
    private let buffer: UnsafeMutableRawBufferPointer
    private var buffered = 0
    /// Bytes handed to the file so far (excluding the buffer).
    private var flushedSize: UInt64 = 0
    public let isSeekable: Bool
    /// A file opened by path is flushed in the background as it grows (`BackgroundFlusher`),
    /// so that `close`'s `fsync` has at most 16 MiB left: a signal during it waits that long at
    /// most, not the 2.5 s a whole 1 GiB CAR took here.
    private let flusher = BackgroundFlusher()

    public static let bufferSize = 1 << 20

    /// Creates (or truncates) the file at `path`, readable and writable so that a root can be
    /// patched in place at the end.
    public init(path: String) throws(CARError) {
        let fd: Int32
        do { fd = try SystemCall.open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644) } catch {
            throw CARError(.io, "cannot create \(path): \(error.reason)")
        }
        self.descriptor = fd
        self.name = path
        self.owned = true
        self.isSeekable = true
        self.buffer = .allocate(byteCount: CARFileOutput.bufferSize, alignment: 64)
    }

    /// Writes to an open descriptor (not closed here). Seekable only if it is a regular file
    /// opened for reading and writing, positioned at its start.
    public init(descriptor: Int32, name: String = "output") {
        self.descriptor = descriptor
        self.name = name
        self.owned = false
        var info = stat()
        let regular = fstat(descriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        let flags = fcntl(descriptor, F_GETFL)
        self.isSeekable = regular && flags >= 0 && (flags & O_ACCMODE) == O_RDWR && lseek(descriptor, 0, SEEK_CUR) == 0
        self.buffer = .allocate(byteCount: CARFileOutput.bufferSize, alignment: 64)
    }

    deinit {
        buffer.deallocate()
        if owned { SystemCall.close(descriptor) }
    }

    /// Flushes; a file opened by path is then synced to disk (`fsync`), so that it can be
    /// renamed into place as complete. Errors surface here rather than in deinit.
    public func close() throws(CARError) {
        try flush()
        guard owned else { return }
        do {
            try flusher.wait(cancellable: true)
        } catch let error as SystemError {
            throw CARError(.io, "cannot sync \(name): \(error.reason)")
        } catch {
            throw CARError(.io, "cannot sync \(name): interrupted")
        }
        do { try SystemCall.fsync(descriptor, path: name) } catch {
            throw CARError(.io, "cannot sync \(name): \(error.reason)")
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(CARError) {
        guard !bytes.isEmpty else { return }
        if bytes.count >= buffer.count / 2 {
            try flush()
            try writeAll(bytes)
            return
        }
        if buffered + bytes.count > buffer.count { try flush() }
        (buffer.baseAddress! + buffered).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        buffered += bytes.count
    }

    public func flush() throws(CARError) {
        guard buffered > 0 else { return }
        let count = buffered
        buffered = 0
        try writeAll(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(CARError) {
        do { try SystemCall.writeAll(descriptor, bytes, path: name) } catch { throw CARError(.io, error.description) }
        flushedSize += UInt64(bytes.count)
        guard owned else { return }
        do {
            try flusher.wrote(upTo: Int64(flushedSize), fd: descriptor, path: name)
        } catch let error as SystemError {
            throw CARError(.io, "cannot sync \(name): \(error.reason)")
        } catch {
            // A signal ended the wait for the previous flush: the writer's own loop stops at
            // its next check; nothing more is started meanwhile.
        }
    }

    private func pwriteAll(_ bytes: UnsafeRawBufferPointer, at position: UInt64) throws(CARError) {
        do { try SystemCall.pwriteAll(descriptor, bytes, at: Int64(position), path: name) } catch {
            throw CARError(.io, error.description)
        }
    }

    private func preadAll(_ bytes: UnsafeMutableRawBufferPointer, at position: UInt64) throws(CARError) {
        let count: Int
        do { count = try SystemCall.preadFull(descriptor, bytes, at: Int64(position), path: name) } catch {
            throw CARError(.io, "cannot read back \(name): \(error.reason)")
        }
        guard count == bytes.count else { throw CARError(.io, "cannot read back \(name): short read") }
    }

    /// In place, with the 1 MiB buffer as scratch: the tail is moved back to front when it
    /// grows, front to back when it shrinks, so no byte is overwritten before it is moved.
    public func replace(_ range: Range<UInt64>, with bytes: UnsafeRawBufferPointer) throws(CARError) {
        guard isSeekable else {
            throw CARError(.invalidUse, "\(name) is not a seekable file: cannot patch the CAR header")
        }
        try flush()
        let size = flushedSize
        guard range.upperBound <= size else { throw CARError(.invalidUse, "replace past the end of \(name)") }
        let oldLength = range.upperBound - range.lowerBound
        let newLength = UInt64(bytes.count)
        if oldLength != newLength {
            let tail = size - range.upperBound
            let chunk = UInt64(buffer.count)
            if newLength > oldLength {
                let shift = newLength - oldLength
                var remaining = tail
                while remaining > 0 {
                    let n = min(chunk, remaining)
                    let from = range.upperBound + remaining - n
                    let scratch = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(n)])
                    try preadAll(scratch, at: from)
                    try pwriteAll(UnsafeRawBufferPointer(scratch), at: from + shift)
                    remaining -= n
                }
                flushedSize = size + shift
            } else {
                let shift = oldLength - newLength
                var done: UInt64 = 0
                while done < tail {
                    let n = min(chunk, tail - done)
                    let from = range.upperBound + done
                    let scratch = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(n)])
                    try preadAll(scratch, at: from)
                    try pwriteAll(UnsafeRawBufferPointer(scratch), at: from - shift)
                    done += n
                }
                flushedSize = size - shift
                guard ftruncate(descriptor, off_t(flushedSize)) == 0 else {
                    throw CARError(.io, "cannot truncate \(name): \(String(cString: strerror(errno)))")
                }
            }
        }
        try pwriteAll(bytes, at: range.lowerBound)
        guard lseek(descriptor, off_t(flushedSize), SEEK_SET) >= 0 else {
            throw CARError(.io, "cannot seek \(name): \(String(cString: strerror(errno)))")
        }
    }
}
