import Foundation
import Multiformats

import CairnSystem

/// Writes a UnixFS file, directory (basic or HAMT) or symlink onto disk, all or nothing
/// (spec/engine.md, "Writing a tree"): everything goes under a temporary name beside the
/// destination, created with `O_EXCL`/`O_NOFOLLOW` relative to directory descriptors (so
/// nothing is ever written outside it, not even through a symlink the DAG itself made), and is
/// renamed into place only once complete and durable: every file is fsynced before it is
/// closed, every directory once its entries exist, and the destination's parent after the
/// rename (spec/engine.md). On failure the partial output is removed; a removal that fails is
/// reported in the error, never silently left.
struct TreeWriter {
    let reader: UnixFSReader
    /// Flushes each file in the background as it grows (one file at a time), so that its
    /// final fsync has at most 16 MiB left (`BackgroundFlusher`).
    let flusher = BackgroundFlusher()

    /// At most this many directory descriptors stay open below the output's own.
    static let openDirectoryLimit = 64

    func write(_ cid: CID, to path: String) throws {
        guard !path.isEmpty else { throw EngineError(.invalidInput, "the output path is empty") }
        var info = stat()
        guard lstat(path, &info) != 0 else { throw EngineError(.invalidInput, "\(path) already exists") }
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let temporary = parent + "/.cairn-get-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        do {
            switch try reader.kind(of: cid) {
            case .file:
                let fd: Int32
                do throws(SystemError) { fd = try SystemCall.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644) } catch {
                    throw EngineError(.io, "cannot create \(temporary): \(error.reason)")
                }
                defer { SystemCall.close(fd) }
                try writeFile(cid, to: fd, name: path)
            case .directory:
                guard mkdir(temporary, 0o755) == 0 else { throw Self.failure("cannot create", temporary) }
                let fd: Int32
                do throws(SystemError) { fd = try SystemCall.open(temporary, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) } catch {
                    throw EngineError(.io, error.description)
                }
                defer { SystemCall.close(fd) }
                try extractTree(cid, into: fd, path: path)
            case .symlink(let target):
                try Self.checkTarget(target, cid: cid)
                try Self.withCString(target) { target in
                    guard symlink(target, temporary) == 0 else { throw Self.failure("cannot create", temporary) }
                }
            }
            do { try SystemCall.rename(temporary, to: path) } catch { throw EngineError(.io, "cannot rename to \(path): \(error.reason)") }
        } catch {
            throw Self.removePartial(temporary, after: error)
        }
        // Not durable until the rename is: if that sync fails, the output is taken back.
        do { try Self.syncDirectory(parent) } catch { throw Self.removePartial(path, after: error) }
    }

    /// Runs a system call, its error as an `EngineError.io` naming the call and the path.
    @discardableResult
    static func io<T>(_ body: () throws(SystemError) -> T) throws -> T {
        do { return try body() } catch { throw EngineError(.io, error.description) }
    }

    /// Writes the UnixFS file `cid` into `fd` and makes it durable: flushed in the background
    /// every 16 MiB as it grows, then fsynced (a signal stops the waits for a flush).
    func writeFile(_ cid: CID, to fd: Int32, name: String) throws {
        flusher.restart()
        var written: Int64 = 0
        do {
            try reader.readFile(cid) { bytes in
                try Self.writeAll(fd, bytes, name: name)
                written += Int64(bytes.count)
                try flusher.wrote(upTo: written, fd: fd, path: name)
            }
            try flusher.wait(cancellable: true)
        } catch let error as SystemError {
            throw EngineError(.io, error.description)
        }
        try Self.sync(fd, name)
    }

    /// fsync of a written file or a filled directory; the error names it.
    static func sync(_ fd: Int32, _ path: String) throws {
        do { try SystemCall.fsync(fd, path: path) } catch { throw EngineError(.io, error.description) }
    }

    /// fsync of the directory at `path`, so a rename into it is durable.
    static func syncDirectory(_ path: String) throws {
        do {
            let fd = try SystemCall.open(path, O_RDONLY | O_DIRECTORY)
            defer { SystemCall.close(fd) }
            try SystemCall.fsync(fd, path: path)
        } catch {
            throw EngineError(.io, error.description)
        }
    }

    /// Removes what a failed write left, and returns the error to report: the original one,
    /// with the partial output named when it could not be removed.
    static func removePartial(_ temporary: String, after error: any Error) -> any Error {
        var info = stat()
        guard lstat(temporary, &info) == 0 else { return error }
        // Large files go through FileDisposal: removing one frees its blocks, which on a mount
        // with `discard` waits for the device (0.2-0.5 s for 1 GiB here, past the 100 ms a
        // signal allows); when a signal is ending the process that is left to a child.
        var large: [String] = []
        if (info.st_mode & S_IFMT) == S_IFREG {
            large = [temporary]
        } else if (info.st_mode & S_IFMT) == S_IFDIR, let walker = FileManager.default.enumerator(atPath: temporary) {
            for case let relative as String in walker {
                let path = temporary + "/" + relative
                var entry = stat()
                if lstat(path, &entry) == 0 && (entry.st_mode & S_IFMT) == S_IFREG && entry.st_size >= 1 << 20 { large.append(path) }
            }
        }
        for start in stride(from: 0, to: large.count, by: 64) {
            let failure = FileDisposal.remove(Array(large[start..<min(start + 64, large.count)]))
            if failure != 0 && failure != ENOENT {
                return EngineError(.io, "\(error); the partial output \(temporary) could not be removed: \(String(cString: strerror(failure)))")
            }
        }
        guard lstat(temporary, &info) == 0 else { return error }
        // Through descriptors (`TreeRemoval`): a partial tree may be deeper than PATH_MAX.
        let failure = TreeRemoval.remove(temporary)
        guard failure == 0 else {
            return EngineError(.io, "\(error); the partial output \(temporary) could not be removed: \(String(cString: strerror(failure)))")
        }
        return error
    }

    static func failure(_ what: String, _ path: String) -> EngineError {
        EngineError(.io, "\(what) \(path): \(String(cString: strerror(errno)))")
    }

    /// Names that could escape the directory or clobber something are refused outright.
    static func checkName(_ name: [UInt8], in directory: CID) throws {
        let shown = String(decoding: name, as: UTF8.self)
        if name.isEmpty || name == [0x2E] || name == [0x2E, 0x2E] || name.contains(0x2F) || name.contains(0) {
            throw EngineError(.unsafeName, "refusing unsafe entry name '\(shown)' in directory \(directory)")
        }
    }

    static func checkTarget(_ target: [UInt8], cid: CID) throws {
        if target.isEmpty || target.contains(0) {
            throw EngineError(.unsafeName, "refusing symlink \(cid): its target is empty or contains NUL")
        }
    }

    static func withCString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try (bytes + [0]).withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    /// Writes all of `bytes` to `fd` (EINTR and short writes retried).
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, name: String) throws {
        do {
            try SystemCall.writeAll(fd, bytes, path: name)
        } catch {
            throw EngineError(.io, error.description)
        }
    }

    /// The deepest tree written, in directories: a chain of 100 000 nested directories (a
    /// few MB of blocks) took minutes, one directory sync each, before it failed; no real tree
    /// comes near (paths past PATH_MAX, 4096 bytes, already defeat most tools).
    static let maximumDepth = 4096

    /// A directory being written: its descriptor (-1 while the walk is far below it), and the
    /// subdirectories still to fill.
    private struct Frame {
        var fd: Int32
        let cid: CID
        /// Its name in its parent (the output path for the top one): a frame does not hold its
        /// whole path, which made memory quadratic in the depth (`path(of:upTo:)`).
        let name: String
        var subdirectories: [(name: [UInt8], cid: CID)] = []
        var next = 0
    }

    /// The path of `stack[index]` (for messages and the calls that name one), built when needed.
    private static func path(of stack: [Frame], upTo index: Int) -> String {
        stack[...index].map(\.name).joined(separator: "/")
    }

    /// Writes the tree of directory `cid` into the open directory `root` (owned by the caller).
    ///
    /// Depth first with an explicit stack: no recursion depends on the depth of the DAG, and a
    /// directory that contains itself (possible only through truncated digests) is an error.
    private func extractTree(_ cid: CID, into root: Int32, path: String) throws {
        var stack = [Frame(fd: root, cid: cid, name: path)]
        stack[0].subdirectories = try writeEntries(cid, into: root, path: path)
        var onPath: Set<CID> = [cid]
        defer { for frame in stack.dropFirst() where frame.fd >= 0 { SystemCall.close(frame.fd) } }
        while let top = stack.indices.last {
            guard stack[top].next < stack[top].subdirectories.count else {
                let frame = stack.removeLast()
                onPath.remove(frame.cid)
                guard let parent = stack.indices.last else { return }
                defer { SystemCall.close(frame.fd) }
                if stack[parent].fd < 0 {
                    // Reopened through `..`: every directory here was made by mkdirat and
                    // opened with O_NOFOLLOW, so the parent of a child is the frame below it.
                    stack[parent].fd = try Self.io { () throws(SystemError) in
                        try SystemCall.openat(frame.fd, "..", O_RDONLY | O_DIRECTORY, path: Self.path(of: stack, upTo: parent))
                    }
                }
                continue
            }
            let (name, child) = stack[top].subdirectories[stack[top].next]
            stack[top].next += 1
            guard onPath.insert(child).inserted else {
                throw EngineError(.invalidDAG, "directory \(child) contains itself (a cycle in the DAG of \(cid))")
            }
            guard stack.count < Self.maximumDepth else {
                throw EngineError(.invalidInput, "the tree of \(cid) is nested deeper than \(Self.maximumDepth) directories")
            }
            let childName = String(decoding: name, as: UTF8.self)
            let childPath = Self.path(of: stack, upTo: top) + "/" + childName
            let parentFD = stack[top].fd
            let fd = try Self.withCString(name) { name in
                try Self.io { () throws(SystemError) in
                    try SystemCall.openat(parentFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, path: childPath)
                }
            }
            stack.append(Frame(fd: fd, cid: child, name: childName))
            stack[stack.count - 1].subdirectories = try writeEntries(child, into: fd, path: childPath)
            let far = stack.count - 1 - Self.openDirectoryLimit
            if far >= 1 && stack[far].fd >= 0 {
                SystemCall.close(stack[far].fd)
                stack[far].fd = -1
            }
        }
    }

    /// Writes the files and symlinks of directory `cid` into `directory` and creates its
    /// subdirectories (empty); returns them, in order, for `extractTree` to fill.
    private func writeEntries(_ cid: CID, into directory: Int32, path: String) throws -> [(name: [UInt8], cid: CID)] {
        var subdirectories: [(name: [UInt8], cid: CID)] = []
        try reader.forEachEntry(ofDirectory: cid) { entry in
            try Self.checkName(entry.name, in: cid)
            let childPath = path + "/" + String(decoding: entry.name, as: UTF8.self)
            try Self.withCString(entry.name) { name in
                switch try reader.kind(of: entry.cid) {
                case .file:
                    let fd = try Self.io { () throws(SystemError) in
                        try SystemCall.openat(directory, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644, path: childPath)
                    }
                    defer { SystemCall.close(fd) }
                    try writeFile(entry.cid, to: fd, name: childPath)
                case .directory:
                    try Self.io { () throws(SystemError) in try SystemCall.mkdirat(directory, name, 0o755, path: childPath) }
                    subdirectories.append((entry.name, entry.cid))
                case .symlink(let target):
                    try Self.checkTarget(target, cid: entry.cid)
                    try Self.withCString(target) { target in
                        try Self.io { () throws(SystemError) in try SystemCall.symlinkat(target, directory, name, path: childPath) }
                    }
                }
            }
        }
        try Self.sync(directory, path)
        return subdirectories
    }
}
