import CairnSystem

/// Every system call of the store goes through here, that is through `SystemCall`: retried on
/// `EINTR`, turned into a `BlockStoreError(.io)` naming the call and the file otherwise.
@inline(__always)
func syscall<T: BinaryInteger>(_ what: @autoclosure () -> String, _ body: () -> T) throws(BlockStoreError) -> T {
    do {
        return try SystemCall.retrying(nil, "call", path: nil, body)
    } catch {
        throw BlockStoreError(error, what())
    }
}

extension BlockStoreError {
    /// An `.io` error for a failed system call, with the store's wording: `WHAT: reason`.
    init(_ error: SystemError, _ what: String) {
        self.init(.io, "\(what): \(error.reason)", errno: error.code)
    }
}

enum Sys {
    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) throws(BlockStoreError) -> Int32 {
        do { return try SystemCall.open(path, flags, mode) } catch { throw BlockStoreError(error, "cannot open \(path)") }
    }

    static func close(_ fd: Int32) {
        SystemCall.close(fd)   // never retried: on Linux the descriptor is gone even on EINTR
    }

    /// Writes all of `bytes` at `offset`.
    static func pwriteAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: @autoclosure () -> String) throws(BlockStoreError) {
        do { try SystemCall.pwriteAll(fd, bytes, at: offset, path: nil) } catch { throw BlockStoreError(error, "cannot write \(path())") }
    }

    /// Writes all of `first` then all of `second` at `offset`, in one `pwritev` when the kernel
    /// takes everything at once (else the rest with `pwrite`).
    static func pwriteAll(_ fd: Int32, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, at offset: Int64,
                          path: @autoclosure () -> String) throws(BlockStoreError) {
        var vectors = [iovec(iov_base: UnsafeMutableRawPointer(mutating: first.baseAddress), iov_len: first.count),
                       iovec(iov_base: UnsafeMutableRawPointer(mutating: second.baseAddress), iov_len: second.count)]
        let written: Int = try syscall("cannot write \(path())") {
            vectors.withUnsafeMutableBufferPointer { pwritev(fd, $0.baseAddress, 2, off_t(offset)) }
        }
        if written < first.count {
            try pwriteAll(fd, UnsafeRawBufferPointer(rebasing: first[written...]), at: offset + Int64(written), path: path())
            try pwriteAll(fd, second, at: offset + Int64(first.count), path: path())
        } else if written < first.count + second.count {
            let done = written - first.count
            try pwriteAll(fd, UnsafeRawBufferPointer(rebasing: second[done...]), at: offset + Int64(written), path: path())
        }
    }

    /// Reads up to `buffer.count` bytes at `offset`; returns the count (short only at end of file).
    static func preadFull(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: @autoclosure () -> String) throws(BlockStoreError) -> Int {
        do { return try SystemCall.preadFull(fd, buffer, at: offset, path: nil) } catch { throw BlockStoreError(error, "cannot read \(path())") }
    }

    static func fdatasync(_ fd: Int32, path: @autoclosure () -> String) throws(BlockStoreError) {
        do { try SystemCall.fdatasync(fd, path: nil) } catch { throw BlockStoreError(error, "cannot sync \(path())") }
    }

    static func fsync(_ fd: Int32, path: @autoclosure () -> String) throws(BlockStoreError) {
        do { try SystemCall.fsync(fd, path: nil) } catch { throw BlockStoreError(error, "cannot sync \(path())") }
    }

    /// `rename(2)`, durable once the directory is synced.
    static func rename(_ source: String, to destination: String) throws(BlockStoreError) {
        do { try SystemCall.rename(source, to: destination) } catch { throw BlockStoreError(error, "cannot rename \(source)") }
    }

    /// Makes the directory entries of `path` durable (after creating or unlinking files in it).
    static func syncDirectory(_ path: String) throws(BlockStoreError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: path)
    }

    static func fileSize(_ fd: Int32, path: @autoclosure () -> String) throws(BlockStoreError) -> Int64 {
        var info = stat()
        _ = try syscall("cannot stat \(path())") { fstat(fd, &info) }
        return Int64(info.st_size)
    }

    static func truncate(_ fd: Int32, to size: Int64, path: @autoclosure () -> String) throws(BlockStoreError) {
        _ = try syscall("cannot truncate \(path())") { ftruncate(fd, off_t(size)) }
    }

    static func unlink(_ path: String) throws(BlockStoreError) {
        let result = SystemCall.unlink(path)
        if result != 0 && errno != ENOENT {
            throw BlockStoreError(.io, "cannot remove \(path): \(String(cString: strerror(errno)))", errno: errno)
        }
    }

    static func mkdirIfNeeded(_ path: String) throws(BlockStoreError) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw BlockStoreError(.io, "cannot create \(path): \(String(cString: strerror(errno)))", errno: errno)
        }
    }

    /// Bytes an unprivileged process may still write on the file system holding `path`.
    static func freeSpace(_ path: String) throws(BlockStoreError) -> Int64 {
        var info = statvfs()
        _ = try syscall("cannot stat the file system of \(path)") { statvfs(path, &info) }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// The names in a directory (without `.` and `..`).
    static func listDirectory(_ path: String) throws(BlockStoreError) -> [String] {
        guard let dir = opendir(path) else {
            throw BlockStoreError(.io, "cannot list \(path): \(String(cString: strerror(errno)))", errno: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

/// How a writer waits for the store lock (spec/blockstore.md §5).
public struct LockWait: Sendable {
    /// How long to wait at most; nil waits as long as it takes.
    public var timeout: Duration?
    /// Told once, when the lock is held by another process: "waiting for the store lock held
    /// by PID N".
    public var notice: (@Sendable (String) -> Void)?

    public init(timeout: Duration? = nil, notice: (@Sendable (String) -> Void)? = nil) {
        self.timeout = timeout
        self.notice = notice
    }
}

/// An exclusive advisory lock on a file (`flock`), held by the one writer of a store across
/// processes. Released by `unlock()` or when the process dies (the kernel drops it). The holder
/// writes its PID into the file, so that a process waiting can say whom it waits for.
final class FileLock: @unchecked Sendable {
    private let fd: Int32
    private let path: String

    /// Waits for the lock as `wait` says; `.busy` when the timeout passes first.
    init(path: String, wait: LockWait = LockWait()) throws(BlockStoreError) {
        self.path = path
        fd = try Sys.open(path, O_RDWR | O_CREAT, 0o644)
        do {
            try FileLock.acquire(fd, path: path, wait: wait)
            // Who holds it (advisory, for the message of a waiting writer).
            // Best effort: the PID only feeds the message of a waiting writer.
            let text = Array("\(getpid())\n".utf8)
            if text.withUnsafeBytes({ pwrite(fd, $0.baseAddress, $0.count, 0) }) == text.count {
                _ = ftruncate(fd, off_t(text.count))
            }
        } catch {
            Sys.close(fd)
            throw error
        }
    }

    private static func acquire(_ fd: Int32, path: String, wait: LockWait) throws(BlockStoreError) {
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
        guard errno == EWOULDBLOCK || errno == EINTR else {
            throw BlockStoreError(.io, "cannot lock \(path): \(String(cString: strerror(errno)))", errno: errno)
        }
        // A short wait (another writer finishing) goes unmentioned; past a second, say whom
        // we wait for, once.
        let start = ContinuousClock.now
        let deadline = wait.timeout.map { start + $0 }
        var told = false
        while deadline.map({ ContinuousClock.now < $0 }) ?? true {
            if !told && ContinuousClock.now - start >= .seconds(1) {
                told = true
                wait.notice?("waiting for the store lock held by PID \(FileLock.holder(fd))")
                if deadline == nil {
                    _ = try syscall("cannot lock \(path)") { flock(fd, LOCK_EX) }
                    return
                }
            }
            usleep(20_000)
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
            guard errno == EWOULDBLOCK || errno == EINTR else {
                throw BlockStoreError(.io, "cannot lock \(path): \(String(cString: strerror(errno)))", errno: errno)
            }
        }
        guard let timeout = wait.timeout else { return }
        throw BlockStoreError(.busy, "gave up after \(timeout) waiting for the store lock held by PID \(FileLock.holder(fd)) (\(path))")
    }

    /// The PID the holder wrote into the lock file ("unknown" if there is none).
    private static func holder(_ fd: Int32) -> String {
        var bytes = [UInt8](repeating: 0, count: 24)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        let text = count > 0 ? String(decoding: bytes[0..<count], as: UTF8.self) : ""
        let pid = text.prefix { $0.isNumber }
        return pid.isEmpty ? "unknown" : String(pid)
    }

    func unlock() {
        _ = flock(fd, LOCK_UN)
    }

    deinit {
        Sys.close(fd)   // closing drops the lock too
    }
}
