import CairnSystem

/// An open file shared by the readers of its regions; closed when the last one is gone.
final class SharedFile: Sendable {
    let fd: Int32
    let path: String

    init(path: String) throws(OCIError) {
        do {
            // O_NONBLOCK: a FIFO among the blobs opens at once (and is then refused as not a
            // regular file) instead of waiting for a writer; regular files ignore the flag.
            fd = try SystemCall.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        } catch {
            throw OCIError(error.code == ENOENT ? .missingBlob : .io, error.description)
        }
        self.path = path
    }

    deinit { SystemCall.close(fd) }

    var size: Int64 {
        get throws(OCIError) {
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw OCIError(.io, "cannot stat \(path): \(String(cString: strerror(errno)))") }
            guard (info.st_mode & S_IFMT) == S_IFREG else { throw OCIError(.invalidLayout, "\(path) is not a regular file") }
            return Int64(info.st_size)
        }
    }
}

/// Bytes `offset ..< offset + length` of a file, read in order with `pread`.
struct RegionReader: Sendable {
    let file: SharedFile
    private(set) var offset: Int64
    private(set) var remaining: Int64
    let name: String

    init(file: SharedFile, offset: Int64, length: Int64, name: String) {
        self.file = file
        self.offset = offset
        self.remaining = length
        self.name = name
    }

    /// Up to `limit` bytes from here (the rest of a small region).
    mutating func readAll(limit: Int = Int.max) throws(OCIError) -> [UInt8] {
        let count = Int(min(remaining, Int64(limit)))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
        defer { buffer.deallocate() }
        let read = try self.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<count]))
        return Array(buffer[..<read])
    }

    /// Fills up to `buffer.count` bytes; 0 at the end of the region.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(OCIError) -> Int {
        guard remaining > 0 else { return 0 }
        let want = Int(min(Int64(buffer.count), remaining))
        let count: Int
        do {
            count = try SystemCall.preadFull(file.fd, UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]), at: offset, path: file.path)
        } catch {
            throw OCIError(.io, error.description)
        }
        guard count == want else { throw OCIError(.io, "\(name): the file ended \(remaining - Int64(count)) bytes early (changed while read)") }
        offset += Int64(count)
        remaining -= Int64(count)
        return count
    }
}

/// Where a layout's files are: a directory, or the entries of a tar archive (indexed once,
/// read in place).
final class BlobContainer: Sendable {
    enum Storage: Sendable {
        case directory(String)
        case archive(SharedFile, entries: [String: (offset: Int64, size: Int64)])
    }
    let storage: Storage
    /// The path given (for messages).
    let path: String

    init(directory: String) {
        storage = .directory(directory)
        path = directory
    }

    /// Indexes the regular files of a tar archive (content is skipped, not read), up to its
    /// end-of-archive block: what follows (padding, or anything appended) is never read. The
    /// archive must be a regular file. A member named twice is refused: tar readers differ on
    /// which copy counts (skopeo's takes the first, GNU tar's extraction leaves the last), so a
    /// second copy could hide a tampered blob from one of them.
    init(archive path: String) throws(OCIError) {
        let file = try SharedFile(path: path)
        _ = try file.size  // a regular file, not a device or a FIFO
        var scanner = TarScanner(name: path)
        var entries: [String: (offset: Int64, size: Int64)] = [:]
        var names: Set<String> = []  // every member but directories, links included
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while !scanner.hasEnded {
            do { try CancellationToken.process.check() } catch { throw OCIError(.io, "\(path): interrupted") }
            let count: Int
            do { count = try SystemCall.preadFull(file.fd, buffer, at: offset, path: path) } catch { throw OCIError(.io, error.description) }
            if count == 0 { break }
            offset += Int64(count)
            try scanner.feed(UnsafeRawBufferPointer(rebasing: buffer[..<count])) { entry throws(OCIError) in
                guard entry.type != UInt8(ascii: "5") else { return }  // directories may repeat
                guard let name = Self.memberName(entry.name) else {
                    throw OCIError(.invalidLayout, "\(path): the archive has a member named '\(entry.name)', which climbs out of it or names nothing")
                }
                guard names.count < 1 << 20 else { throw OCIError(.invalidLayout, "\(path): more than \(1 << 20) files in the archive") }
                guard names.insert(name).inserted else {
                    throw OCIError(.invalidLayout, "\(path): the archive holds \(name) twice (which copy counts differs between tar readers)")
                }
                guard entry.isRegular else { return }
                entries[name] = (entry.contentOffset, entry.size)
            }
            offset += scanner.pendingContent
            scanner.skipPendingContent()
        }
        try scanner.finish()
        storage = .archive(file, entries: entries)
        self.path = path
    }

    /// A member's name as tar readers resolve it: a leading `/`, empty and `.` segments
    /// dropped (`././blobs//x` is `blobs/x`); nil for a name with a `..` segment or no name
    /// left. Names that differ only so are one member: a second copy under another spelling
    /// could hide a tampered blob from one reader or another.
    static func memberName(_ raw: String) -> String? {
        var parts: [Substring] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            guard part != ".." else { return nil }
            parts.append(part)
        }
        return parts.isEmpty ? nil : parts.joined(separator: "/")
    }

    var isArchive: Bool { if case .archive = storage { return true } else { return false } }

    /// Whether a file exists at `name` (relative).
    func contains(_ name: String) -> Bool {
        switch storage {
        case .directory(let root): return access(root + "/" + name, F_OK) == 0
        case .archive(_, let entries): return entries[Self.memberName(name) ?? name] != nil
        }
    }

    /// A reader of the file at `name` (relative, checked to stay inside), and its size.
    func open(_ name: String) throws(OCIError) -> RegionReader {
        try Self.checkRelative(name, in: path)
        switch storage {
        case .directory(let root):
            let file = try SharedFile(path: root + "/" + name)
            return RegionReader(file: file, offset: 0, length: try file.size, name: name)
        case .archive(let file, let entries):
            guard let entry = entries[Self.memberName(name) ?? name] else { throw OCIError(.missingBlob, "\(path): no file \(name)") }
            return RegionReader(file: file, offset: entry.offset, length: entry.size, name: name)
        }
    }

    /// The whole file at `name`, refused beyond `limit` bytes (JSON documents).
    func read(_ name: String, limit: Int = 4 << 20) throws(OCIError) -> [UInt8] {
        var reader = try open(name)
        guard reader.remaining <= Int64(limit) else {
            throw OCIError(.invalidLayout, "\(path): \(name) is \(reader.remaining) bytes, more than the \(limit) a JSON document may have")
        }
        return try reader.readAll()
    }

    /// Refuses absolute names and `..` components (names come from the layout's JSON).
    static func checkRelative(_ name: String, in path: String) throws(OCIError) {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !name.isEmpty, !name.hasPrefix("/"), !parts.contains("..") else {
            throw OCIError(.invalidLayout, "\(path): unsafe file name '\(name)' in the layout")
        }
    }
}
