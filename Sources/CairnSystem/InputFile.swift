/// A file or standard input (`-`) opened for reading: the one opener behind the readers of a
/// byte stream that a user names by path (`CARFileSource`, the command line's `ByteInput`).
/// A directory is refused; a descriptor it opened is closed with it.
public struct InputFile: ~Copyable {
    public let descriptor: Int32
    /// The path, or `<stdin>`.
    public let name: String
    private let owned: Bool
    /// A pipe, socket or terminal (`SystemCall.mayWait`), decided once.
    private let mayWait: Bool

    /// Why a path cannot be read; `description` is the line to report.
    public enum Failure: Error, CustomStringConvertible {
        case system(SystemError)
        case directory(String)
        case notRegular(String, kind: String)

        public var description: String {
            switch self {
            case .system(let error): return error.description
            case .directory(let path): return "\(path) is a directory"
            case .notRegular(let path, let kind):
                return "\(path) is \(kind), not a regular file (to read it, pipe it to standard input: -)"
            }
        }
    }

    /// What kind of special file `path` is (followed), when it is neither a regular file nor a
    /// directory: "a FIFO", "a character device", "a block device", "a socket". Checked before
    /// opening: opening a FIFO blocks until a writer comes, reading a device may never end.
    public static func specialKind(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }  // opening it reports why
        switch info.st_mode & S_IFMT {
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return nil
        }
    }

    /// Whether `path` (followed) is a directory.
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    public init(path: String) throws(Failure) {
        if path == "-" {
            descriptor = 0
            name = "<stdin>"
            owned = false
            mayWait = SystemCall.mayWait(0)
            return
        }
        if let kind = Self.specialKind(path) { throw .notRegular(path, kind: kind) }
        let fd: Int32
        do { fd = try SystemCall.open(path, O_RDONLY) } catch { throw .system(error) }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw .directory(path)
        }
        descriptor = fd
        name = path
        owned = true
        mayWait = SystemCall.mayWait(fd)
    }

    /// An open descriptor, not closed here.
    public init(descriptor: Int32, name: String) {
        self.descriptor = descriptor
        self.name = name
        self.owned = false
        self.mayWait = SystemCall.mayWait(descriptor)
    }

    deinit {
        if owned { close(descriptor) }
    }

    /// The bytes from the current position to the end, for a regular file; nil otherwise.
    public var remainingSize: UInt64? {
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        let position = lseek(descriptor, 0, SEEK_CUR)
        return position >= 0 ? UInt64(info.st_size) - UInt64(position) : nil
    }

    /// Reads up to `buffer.count` bytes; 0 at the end (EINTR retried, `SystemCall.read`).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        try SystemCall.readInterruptibly(descriptor, mayWait: mayWait, into: buffer, path: name)
    }
}
