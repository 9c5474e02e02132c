import CairnSystem

/// A file or standard input (`-`), read sequentially in large blocks into one reused buffer.
///
/// Every read loop checks for Task cancellation between blocks.
struct ByteInput: ~Copyable {
    let descriptor: Int32
    let name: String
    private let owned: Bool

    init(path: String) throws {
        if path == "-" {
            self.descriptor = 0
            self.name = "<stdin>"
            self.owned = false
            return
        }
        let fd: Int32
        do { fd = try SystemCall.open(path, O_RDONLY) } catch { throw CLIError(error.description) }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw CLIError("\(path) is a directory")
        }
        self.descriptor = fd
        self.name = path
        self.owned = true
    }

    deinit {
        if owned { close(descriptor) }
    }

    /// Calls `body` with each block read, until end of input.
    func forEachBlock(
        blockSize: Int = 1 << 20,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            try CancellationToken.process.check()
            let count: Int
            do { count = try SystemCall.read(descriptor, into: buffer, path: name) } catch { throw CLIError(error.description) }
            if count == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }
}
