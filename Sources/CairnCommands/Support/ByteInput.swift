import CairnSystem

/// A file or standard input (`-`), read sequentially in large blocks into one reused buffer.
///
/// Every read loop checks for Task cancellation between blocks.
struct ByteInput: ~Copyable {
    private let file: InputFile
    var name: String { file.name }

    init(path: String) throws {
        do { file = try InputFile(path: path) } catch { throw CLIError(error.description) }
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
            do { count = try file.read(into: buffer) } catch { throw CLIError(error.description) }
            if count == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }
}
