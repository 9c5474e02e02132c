import CCairnSystem

/// The one place where Cairn calls the operating system for file I/O: every call is retried
/// on `EINTR`, a failure becomes a `SystemError` naming the call and the file, and the
/// fault-injection plan (`CAIRN_FAULT`, see `FaultPlan`) can make a chosen call fail.
public enum SystemCall {
    /// Runs `body` (a system call returning -1 and setting `errno` on failure) until it does
    /// not fail with `EINTR`. `kind` is what fault injection counts; `name` and `path` go
    /// into the error.
    public static func retrying<T: BinaryInteger>(
        _ kind: FaultPlan.Kind?, _ name: String, path: @autoclosure () -> String?,
        plan: FaultPlan = .active, _ body: () -> T
    ) throws(SystemError) -> T {
        while true {
            if let kind, let injected = plan.next(kind) {
                if injected == EINTR { continue }
                throw SystemError(code: injected, call: name, path: path())
            }
            let result = body()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            throw SystemError(code: code, call: name, path: path())
        }
    }

    /// `open(2)` with `O_CLOEXEC`.
    public static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) throws(SystemError) -> Int32 {
        try retrying(.open, "open", path: path) { platformOpen(path, flags | O_CLOEXEC, mode) }
    }

    /// An existing file opened a second time for writing with direct I/O (`O_DIRECT`, which
    /// bypasses the page cache and needs aligned buffers, offsets and lengths), or nil where
    /// the system or the file system has none. Not counted by fault injection: a writer that
    /// cannot have it writes through the page cache instead.
    public static func openForDirectWrites(_ path: String) -> Int32? {
        let fd = ccairn_open_direct_write(path)
        return fd >= 0 ? fd : nil
    }

    /// `openat(2)` with `O_CLOEXEC`, relative to the directory `directory` (`name` is one path
    /// component; `path` is what errors show). Fault injection counts it as an `open`.
    public static func openat(_ directory: Int32, _ name: UnsafePointer<CChar>, _ flags: Int32, _ mode: mode_t = 0o644,
                              path: @autoclosure () -> String?) throws(SystemError) -> Int32 {
        try retrying(.open, "openat", path: path()) { platformOpenat(directory, name, flags | O_CLOEXEC, mode) }
    }

    /// `mkdirat(2)`. Fault injection counts it as an `open`.
    public static func mkdirat(_ directory: Int32, _ name: UnsafePointer<CChar>, _ mode: mode_t,
                               path: @autoclosure () -> String?) throws(SystemError) {
        _ = try retrying(.open, "mkdirat", path: path()) { platformMkdirat(directory, name, mode) }
    }

    /// `symlinkat(2)`: a link named `name` in `directory` pointing at `target`. Counted as an `open`.
    public static func symlinkat(_ target: UnsafePointer<CChar>, _ directory: Int32, _ name: UnsafePointer<CChar>,
                                 path: @autoclosure () -> String?) throws(SystemError) {
        _ = try retrying(.open, "symlinkat", path: path()) { platformSymlinkat(target, directory, name) }
    }

    /// `read(2)`: up to `buffer.count` bytes; 0 at the end of the input.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: @autoclosure () -> String?) throws(SystemError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        return try retrying(.read, "read", path: path()) { platformRead(fd, base, buffer.count) }
    }

    /// Whether reading `fd` may wait for input (a pipe, a socket, a terminal; not a regular
    /// file): decided once per descriptor, for `readInterruptibly`.
    public static func mayWait(_ fd: Int32) -> Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) != S_IFREG
    }

    /// `read(2)` that, on a descriptor that `mayWait`, first waits for input in steps of 100 ms
    /// and gives up with `EINTR` once `CancellationToken.process` is cancelled: the signal
    /// handlers restart an interrupted read (SA_RESTART), so without this a command waiting on
    /// standard input could not be stopped by Ctrl-C until its input ended.
    public static func readInterruptibly(_ fd: Int32, mayWait: Bool, into buffer: UnsafeMutableRawBufferPointer,
                                         path: @autoclosure () -> String?) throws(SystemError) -> Int {
        if mayWait {
            var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            while true {
                if CancellationToken.process.isCancelled { throw SystemError(code: EINTR, call: "read", path: path()) }
                let ready = poll(&waiting, 1, 100)
                if ready > 0 || (ready < 0 && errno != EINTR) { break }  // input, or an error read reports
            }
        }
        return try read(fd, into: buffer, path: path())
    }

    /// `write(2)` until every byte of `bytes` is written.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: @autoclosure () -> String?) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            done += try retrying(.write, "write", path: path()) {
                platformWrite(fd, bytes.baseAddress! + done, bytes.count - done)
            }
        }
    }

    /// `pwrite(2)` until every byte of `bytes` is written at `offset`.
    public static func pwriteAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: @autoclosure () -> String?) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            done += try retrying(.write, "pwrite", path: path()) {
                pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            }
        }
    }

    /// `pread(2)` until `buffer` is full or the file ends; returns the count read.
    public static func preadFull(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: @autoclosure () -> String?) throws(SystemError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = try retrying(.read, "pread", path: path()) {
                pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// `fsync(2)`.
    public static func fsync(_ fd: Int32, path: @autoclosure () -> String?) throws(SystemError) {
        _ = try retrying(.fsync, "fsync", path: path()) { platformFsync(fd) }
    }

    /// `fdatasync(2)` (`fsync` where the platform has no `fdatasync`).
    public static func fdatasync(_ fd: Int32, path: @autoclosure () -> String?) throws(SystemError) {
        #if os(Linux)
        _ = try retrying(.fdatasync, "fdatasync", path: path()) { platformFdatasync(fd) }
        #else
        _ = try retrying(.fdatasync, "fdatasync", path: path()) { platformFsync(fd) }
        #endif
    }

    /// `rename(2)`; the error names the source.
    public static func rename(_ source: String, to destination: String) throws(SystemError) {
        _ = try retrying(.rename, "rename", path: source) { platformRename(source, destination) }
    }

    /// `unlink(2)` as is (-1 and `errno` on failure): callers often accept `ENOENT`.
    public static func unlink(_ path: String) -> Int32 {
        platformUnlink(path)
    }

    /// `close(2)`, never retried: on Linux the descriptor is gone even after `EINTR`.
    public static func close(_ fd: Int32) {
        _ = platformClose(fd)
    }

    /// Starts the writeback of `count` bytes at `offset` without waiting for it
    /// (`sync_file_range(SYNC_FILE_RANGE_WRITE)` on Linux; nothing elsewhere). A hint: its
    /// failure is ignored, the writer's own sync decides durability.
    public static func startWriteback(_ fd: Int32, offset: Int64, count: Int) {
        #if os(Linux)
        if let call = syncFileRange { _ = call(fd, offset, Int64(count), 2 /* SYNC_FILE_RANGE_WRITE */) }
        #endif
    }
}

#if os(Linux)
/// `sync_file_range(2)`, which Glibc's Swift module does not export (it needs _GNU_SOURCE).
private let syncFileRange: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
}()
#endif

// The C functions under names that the methods above do not shadow.
func platformOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
func platformOpenat(_ directory: Int32, _ name: UnsafePointer<CChar>, _ flags: Int32, _ mode: mode_t) -> Int32 {
    openat(directory, name, flags, mode)
}
func platformMkdirat(_ directory: Int32, _ name: UnsafePointer<CChar>, _ mode: mode_t) -> Int32 { mkdirat(directory, name, mode) }
func platformSymlinkat(_ target: UnsafePointer<CChar>, _ directory: Int32, _ name: UnsafePointer<CChar>) -> Int32 {
    symlinkat(target, directory, name)
}
func platformRead(_ fd: Int32, _ base: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, base, count) }
func platformWrite(_ fd: Int32, _ base: UnsafeRawPointer, _ count: Int) -> Int { write(fd, base, count) }
func platformFsync(_ fd: Int32) -> Int32 { fsync(fd) }
#if os(Linux)
func platformFdatasync(_ fd: Int32) -> Int32 { fdatasync(fd) }
#endif
func platformRename(_ source: String, _ destination: String) -> Int32 { rename(source, destination) }
func platformUnlink(_ path: String) -> Int32 { unlink(path) }
func platformClose(_ fd: Int32) -> Int32 { close(fd) }
