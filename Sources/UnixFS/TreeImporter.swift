import Multiformats
import Blocks

import CairnSystem

/// What kind of UnixFS node an added entry became.
public enum AddedKind: String, Hashable, Sendable {
    case file, directory, symlink
}

/// One entry added by `TreeImporter`: its path (the name it was added under, then `/`-separated
/// names below it, as raw file-system bytes) and its DAG root.
public struct AddedEntry: Hashable, Sendable {
    public var path: [UInt8]
    public var kind: AddedKind
    public var result: ImportResult

    public init(path: [UInt8], kind: AddedKind, result: ImportResult) {
        self.path = path
        self.kind = kind
        self.result = result
    }

    /// The link name a parent directory gives this entry (the last path component).
    public var name: [UInt8] {
        if let slash = path.lastIndex(of: UInt8(ascii: "/")) { return Array(path[(slash + 1)...]) }
        return path
    }
}

/// What `TreeImporter` does with the symlinks it meets.
public enum SymlinkPolicy: String, Hashable, Sendable {
    /// Store every symlink as a UnixFS symlink (Kubo's default).
    case store
    /// `--dereference-args`: follow a symlink given as the argument itself; store the ones met
    /// below it.
    case followArguments
    /// `--dereference-symlinks`: follow every symlink, the argument and all met while walking.
    case followAll
}

/// Imports files, symlinks and directory trees as Kubo's `ipfs add [-r] [-H]` does
/// (kubo-import-semantics.md §5, §6): directories become basic directories or HAMTs, symlinks
/// are stored unless `symlinks` says to follow them, entries are visited in name-byte order,
/// hidden entries (names starting with `.`) below an argument are skipped unless
/// `includeHidden`, entries whose name `ignoreRules` excludes are skipped, and empty
/// directories are kept unless `includeEmptyDirectories` is false. The argument itself is
/// never filtered.
///
/// Streaming: files go through `FileImporter` (constant memory); an open directory keeps only
/// its entries' names, CIDs and sizes. Blocks reach the sink children first: a file's blocks,
/// a directory right after its last entry, the argument's root last.
public struct TreeImporter: Sendable {
    public let files: FileImporter
    /// For files of at most `smallFileBytes`: one thread and small batches, so a tree of many
    /// small files does not pay for worker threads and large batch buffers per file.
    let smallFiles: FileImporter
    static let smallFileBytes = 4 << 20
    public let directories: DirectoryBuilder
    /// `-H` / `--hidden`: also add entries whose name starts with `.` found while walking.
    public var includeHidden: Bool
    /// `--ignore` / `--ignore-rules-path`: entries found while walking whose name (with the
    /// type from `lstat`: a symlink is never a directory) these rules exclude are skipped.
    public var ignoreRules = IgnoreRules()
    /// `--empty-dirs` (default true). When false, a directory found while walking that has no
    /// entry left once hidden, ignored and (recursively) empty directories are dropped is
    /// skipped itself. The argument's own directory is always added.
    public var includeEmptyDirectories = true
    /// `--dereference-args` / `--dereference-symlinks`.
    public var symlinks = SymlinkPolicy.store

    public var parameters: ImportParameters { files.parameters }

    public init(parameters: ImportParameters = .kuboDefault, threads: Int? = nil, includeHidden: Bool = false) throws(ImportOptionsError) {
        self.init(files: try FileImporter(parameters: parameters, threads: threads), includeHidden: includeHidden, checked: ())
    }

    /// `files.parameters` are valid (FileImporter validated them, directory rules included).
    private init(files: FileImporter, includeHidden: Bool, checked: Void) {
        self.files = files
        var small = try! FileImporter(parameters: files.parameters, threads: 1)
        small.batchLeaves = 64
        small.batchBytes = TreeImporter.smallFileBytes
        small.memoryMapFiles = files.memoryMapFiles
        small.cancellation = files.cancellation
        self.smallFiles = small
        self.directories = try! DirectoryBuilder(parameters: files.parameters)
        self.includeHidden = includeHidden
    }

    public init(files: FileImporter, includeHidden: Bool = false) throws(ImportOptionsError) {
        try files.parameters.validate()
        self.init(files: files, includeHidden: includeHidden, checked: ())
    }

    /// Imports what `path` names: a file (or named pipe), a symlink (stored, or followed with
    /// `symlinks` other than `.store`), or with `recursive` a directory tree. `name` is the path
    /// reported for it (default: the last component of `path`; of the resolved path when
    /// arguments are dereferenced, as Kubo names them after `filepath.EvalSymlinks`). `report`
    /// sees every entry, each after all entries below it. Returns the top entry.
    @discardableResult
    public func importPath<Sink: BlockSink>(
        _ path: String, name: [UInt8]? = nil, recursive: Bool, into sink: inout Sink,
        report: (AddedEntry) throws -> Void = { _ in }
    ) throws -> AddedEntry {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            throw ImportError(.io, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        var target = path
        var label = name ?? TreeImporter.lastComponent(of: path)
        if symlinks != .store {
            // Kubo resolves a dereferenced argument with filepath.EvalSymlinks and names it
            // after the resolved path.
            guard let resolved = realpath(path, nil) else {
                let reason = String(cString: strerror(errno))
                if (info.st_mode & S_IFMT) == S_IFLNK {
                    throw ImportError(.io, "cannot follow symlink \(path): \(reason)")
                }
                throw ImportError(.io, "cannot resolve \(path): \(reason)")
            }
            target = String(cString: resolved)
            free(resolved)
            guard stat(target, &info) == 0 else {
                throw ImportError(.io, "cannot open \(target): \(String(cString: strerror(errno)))")
            }
            if name == nil { label = TreeImporter.lastComponent(of: target) }
        }
        let entry: AddedEntry
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            guard recursive else { throw ImportError(.unsupportedFile, "\(path) is a directory, use the '-r' flag to specify directories") }
            let fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw ImportError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            // The argument's own directory is always added, even empty.
            return try importDirectory(fd, path: label, info: info, into: &sink, report: report)
        case S_IFLNK:
            var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = buffer.withUnsafeMutableBufferPointer { readlink(path, $0.baseAddress!, $0.count) }
            guard n >= 0 else { throw ImportError(.io, "cannot read link \(path): \(String(cString: strerror(errno)))") }
            let result = try directories.symlink(target: Array(buffer[0..<n]), metadata: metadata(info, symlink: true), into: &sink)
            entry = AddedEntry(path: label, kind: .symlink, result: result)
        case S_IFREG:
            let fd = open(target, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ImportError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            let result = try files.importFile(descriptor: fd, into: &sink, name: path, metadata: metadata(info, symlink: false))
            entry = AddedEntry(path: label, kind: .file, result: result)
        default:
            // A FIFO, device or socket, as inside a directory (Kubo refuses them too): opening a
            // FIFO would wait for a writer, and /dev/zero would never end.
            throw ImportError(.unsupportedFile, "unrecognized file type for \(path): only regular files, directories and symlinks can be added")
        }
        try report(entry)
        return entry
    }

    /// The metadata the policy gives an entry with this `stat`.
    func metadata(_ info: stat, symlink: Bool) -> UnixFSMetadata {
        let policy = parameters.metadata
        if policy.isNone { return UnixFSMetadata() }
        let permissions = UInt32(info.st_mode) & 0o7777
        #if canImport(Darwin)
        let time = UnixFSTime(seconds: Int64(info.st_mtimespec.tv_sec), nanoseconds: UInt32(info.st_mtimespec.tv_nsec))
        #else
        let time = UnixFSTime(seconds: Int64(info.st_mtim.tv_sec), nanoseconds: UInt32(info.st_mtim.tv_nsec))
        #endif
        return policy.metadata(isSymlink: symlink, permissions: permissions, mtime: time)
    }

    /// A directory's identity (device and inode).
    struct Identity: Hashable {
        var device: UInt64
        var inode: UInt64

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    /// A directory being walked: its listing, where the walk is in it, and the entries added so
    /// far. Its descriptor may be closed (-1) while the walk is far below it; see `reopen`.
    private struct Frame {
        var fd: Int32
        let path: [UInt8]
        /// The link name in the parent directory, and whether it was a symlink followed.
        let name: [UInt8]
        let followed: Bool
        let info: stat
        let names: [[UInt8]]
        var next = 0
        var entries: [DirectoryEntry] = []
    }

    /// At most this many directory descriptors stay open below the argument (a walk 100 000
    /// levels deep must not run out of descriptors).
    static let openDirectoryLimit = 64

    /// Imports the argument's open directory `fd` (owned by the caller) and everything below it.
    ///
    /// The walk is iterative, with an explicit stack of `Frame`s: no recursion depends on the
    /// depth of the tree. Each directory is built and reported after its last entry.
    private func importDirectory<Sink: BlockSink>(
        _ fd: Int32, path: [UInt8], info: stat, into sink: inout Sink, report: (AddedEntry) throws -> Void
    ) throws -> AddedEntry {
        var stack = [Frame(fd: fd, path: path, name: path, followed: false, info: info,
                           names: try TreeImporter.listNames(fd, path: path, includeHidden: includeHidden))]
        var onPath: [Identity: [UInt8]] = [Identity(info): path]
        defer { for frame in stack.dropFirst() where frame.fd >= 0 { close(frame.fd) } }
        while true {
            let top = stack.count - 1
            if stack[top].next < stack[top].names.count {
                let name = stack[top].names[stack[top].next]
                stack[top].next += 1
                let childPath = stack[top].path + [UInt8(ascii: "/")] + name
                if stack[top].fd < 0 { try reopen(&stack, top) }
                switch try importChild(stack[top].fd, name: name, path: childPath, into: &sink, report: report) {
                case .skipped:
                    continue
                case .added(let child):
                    stack[top].entries.append(DirectoryEntry(name: name, cid: child.result.root, tsize: child.result.size))
                case .directory(let childFD, let childInfo, let followed):
                    let identity = Identity(childInfo)
                    if let loop = onPath[identity] {
                        close(childFD)
                        throw ImportError(.symlinkCycle, "symlink cycle: \(String(decoding: childPath, as: UTF8.self)) is the directory \(String(decoding: loop, as: UTF8.self)) again, which contains it")
                    }
                    let names: [[UInt8]]
                    do {
                        names = try TreeImporter.listNames(childFD, path: childPath, includeHidden: includeHidden)
                    } catch {
                        close(childFD)
                        throw error
                    }
                    onPath[identity] = childPath
                    stack.append(Frame(fd: childFD, path: childPath, name: name, followed: followed, info: childInfo, names: names))
                    let far = stack.count - 1 - TreeImporter.openDirectoryLimit
                    if far >= 1 && stack[far].fd >= 0 {
                        close(stack[far].fd)
                        stack[far].fd = -1
                    }
                }
                continue
            }
            // The directory on top is complete: build it, then hand it to its parent.
            let frame = stack.removeLast()
            onPath[Identity(frame.info)] = nil
            defer { if !stack.isEmpty && frame.fd >= 0 { close(frame.fd) } }
            if frame.entries.isEmpty && !stack.isEmpty && !includeEmptyDirectories {
                if stack[stack.count - 1].fd < 0 { try reopen(&stack, stack.count - 1, child: frame.fd) }
                continue
            }
            let result = try directories.build(frame.entries, metadata: metadata(frame.info, symlink: false), into: &sink)
            let entry = AddedEntry(path: frame.path, kind: .directory, result: result)
            try report(entry)
            guard let parent = stack.indices.last else { return entry }
            stack[parent].entries.append(DirectoryEntry(name: frame.name, cid: result.root, tsize: result.size))
            if stack[parent].fd < 0 { try reopen(&stack, parent, child: frame.fd) }
        }
    }

    /// Opens again the directory of `stack[index]`, whose descriptor was closed: through `..`
    /// of its just finished `child` when that is the same directory (the usual case), else by
    /// its names from the nearest ancestor still open. Either way it must be the directory
    /// walked before (same device and inode).
    private func reopen(_ stack: inout [Frame], _ index: Int, child: Int32 = -1) throws {
        let wanted = Identity(stack[index].info)
        func matches(_ fd: Int32) -> Bool {
            var info = stat()
            return fstat(fd, &info) == 0 && Identity(info) == wanted
        }
        if child >= 0 {
            let fd = openat(child, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd >= 0 && matches(fd) {
                stack[index].fd = fd
                return
            }
            if fd >= 0 { close(fd) }
        }
        var base = index - 1
        while stack[base].fd < 0 { base -= 1 }
        var fd = stack[base].fd
        for level in (base + 1)...index {
            let frame = stack[level]
            let cName = frame.name.map { CChar(bitPattern: $0) } + [0]
            let next = openat(fd, cName, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (frame.followed ? 0 : O_NOFOLLOW))
            if fd != stack[base].fd { close(fd) }
            var info = stat()
            guard next >= 0, fstat(next, &info) == 0, Identity(info) == Identity(frame.info) else {
                if next >= 0 { close(next) }
                throw ImportError(.changed, "\(String(decoding: frame.path, as: UTF8.self)) changed while it was being added")
            }
            fd = next
        }
        stack[index].fd = fd
    }

    /// What one directory entry turned out to be.
    private enum Child {
        /// Ignored, or an empty directory left out.
        case skipped
        /// A file or symlink, imported and reported.
        case added(AddedEntry)
        /// A directory, opened (the caller walks it and closes the descriptor).
        case directory(Int32, stat, followed: Bool)
    }

    /// Imports one directory entry that is not a directory; opens a directory.
    private func importChild<Sink: BlockSink>(
        _ parent: Int32, name: [UInt8], path: [UInt8], into sink: inout Sink,
        report: (AddedEntry) throws -> Void
    ) throws -> Child {
        let cName = name.map { CChar(bitPattern: $0) } + [0]
        let shown = String(decoding: path, as: UTF8.self)
        var info = stat()
        guard fstatat(parent, cName, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw ImportError(.io, "cannot stat \(shown): \(String(cString: strerror(errno)))")
        }
        if !ignoreRules.isEmpty && ignoreRules.excludes(name: name, isDirectory: (info.st_mode & S_IFMT) == S_IFDIR) {
            return .skipped
        }
        // A followed symlink is opened through the link; otherwise nothing is followed.
        var noFollow = O_NOFOLLOW
        if (info.st_mode & S_IFMT) == S_IFLNK && symlinks == .followAll {
            guard fstatat(parent, cName, &info, 0) == 0 else {
                throw ImportError(.io, "cannot follow symlink \(shown): \(String(cString: strerror(errno)))")
            }
            noFollow = 0
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            let fd = openat(parent, cName, O_RDONLY | O_DIRECTORY | noFollow | O_CLOEXEC)
            guard fd >= 0 else { throw ImportError(.io, "cannot open \(shown): \(String(cString: strerror(errno)))") }
            return .directory(fd, info, followed: noFollow == 0)
        case S_IFLNK:
            var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = buffer.withUnsafeMutableBufferPointer { out in
                out.withMemoryRebound(to: CChar.self) { readlinkat(parent, cName, $0.baseAddress!, $0.count) }
            }
            guard n >= 0 else { throw ImportError(.io, "cannot read link \(shown): \(String(cString: strerror(errno)))") }
            let result = try directories.symlink(target: Array(buffer[0..<n]), metadata: metadata(info, symlink: true), into: &sink)
            let entry = AddedEntry(path: path, kind: .symlink, result: result)
            try report(entry)
            return .added(entry)
        case S_IFREG:
            let fd = openat(parent, cName, O_RDONLY | noFollow | O_CLOEXEC)
            guard fd >= 0 else { throw ImportError(.io, "cannot open \(shown): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            let importer = Int(info.st_size) <= TreeImporter.smallFileBytes ? smallFiles : files
            let result = try importer.importFile(descriptor: fd, into: &sink, name: shown, metadata: metadata(info, symlink: false))
            let entry = AddedEntry(path: path, kind: .file, result: result)
            try report(entry)
            return .added(entry)
        default:
            throw ImportError(.unsupportedFile, "unrecognized file type for \(shown): only regular files, directories and symlinks can be added")
        }
    }

    /// The entry names of an open directory in byte order (Go's `os.ReadDir`), without `.`
    /// and `..`, and without hidden names unless asked.
    static func listNames(_ fd: Int32, path: [UInt8], includeHidden: Bool) throws -> [[UInt8]] {
        let copy = dup(fd)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            throw ImportError(.io, "cannot read directory \(String(decoding: path, as: UTF8.self)): \(String(cString: strerror(errno)))")
        }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let record = readdir(stream) else {
                if errno != 0 {
                    throw ImportError(.io, "cannot read directory \(String(decoding: path, as: UTF8.self)): \(String(cString: strerror(errno)))")
                }
                break
            }
            let name: [UInt8] = withUnsafeBytes(of: &record.pointee.d_name) { raw in
                let length = raw.firstIndex(of: 0) ?? raw.count
                return Array(raw[0..<length])
            }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            if !includeHidden && name.first == UInt8(ascii: ".") { continue }
            names.append(name)
        }
        names.sort { $0.lexicographicallyPrecedes($1) }
        return names
    }

    /// The last component of a path as `ipfs add` names an argument (trailing slashes ignored;
    /// `.` and `..` resolved to the directory's real name).
    public static func lastComponent(of path: String) -> [UInt8] {
        var bytes = Array(path.utf8)
        while bytes.count > 1 && bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        var last = bytes
        if let slash = bytes.lastIndex(of: UInt8(ascii: "/")), bytes.count > 1 {
            last = Array(bytes[(slash + 1)...])
        }
        if last == [0x2E] || last == [0x2E, 0x2E] {
            if let resolved = realpath(path, nil) {
                defer { free(resolved) }
                let full = Array(String(cString: resolved).utf8)
                if let slash = full.lastIndex(of: UInt8(ascii: "/")), full.count > 1 {
                    return Array(full[(slash + 1)...])
                }
                return full
            }
        }
        return last
    }
}
