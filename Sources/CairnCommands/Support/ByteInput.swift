#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CLIError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
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
            try Task.checkCancellation()
            let count = read(descriptor, buffer.baseAddress, blockSize)
            if count < 0 {
                if errno == EINTR { continue }
                throw CLIError("cannot read \(name): \(String(cString: strerror(errno)))")
            }
            if count == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }
}
