@_exported public import CairnErrors
import CairnSystem

/// The error of reading a chunker's input, in the project's pattern (spec/api.md §3): a closed
/// `code` to compare, the `errno` when a system call failed, and a one-line `message`.
public struct ChunkingError: CairnError {
    public struct Code: ErrorCode {
        public let rawValue: UInt8
        init(_ raw: UInt8) { self.rawValue = raw }
        /// `read(2)` on the input failed.
        public static let readFailed = Code(1)
        public static let names = ["readFailed"]
    }

    public let code: Code
    /// The system call's errno, when one failed.
    public let errno: Int32?

    public init(_ code: Code, errno: Int32? = nil) {
        self.code = code
        self.errno = errno
    }

    /// `read(2)` failed with this errno.
    public static func readFailed(errno: Int32) -> ChunkingError { ChunkingError(.readFailed, errno: errno) }

    public var message: String {
        guard let errno else { return "read failed" }
        return "read failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }

    public var description: String { message }
}

/// Where a ``ChunkReader`` gets its bytes from.
public protocol ByteSource {
    /// Copies up to `buffer.count` bytes into `buffer` and returns how many; 0 means the end of
    /// the input. May return fewer bytes than asked for at any time.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ChunkingError) -> Int
}

/// Reads from a file descriptor with `read(2)` (a file, a pipe, stdin). Does not close it.
public struct FileDescriptorSource: ByteSource, Sendable {
    public let fileDescriptor: Int32
    /// A pipe, socket or terminal: its reads wait interruptibly (`SystemCall.readInterruptibly`).
    private let mayWait: Bool

    public init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
        self.mayWait = SystemCall.mayWait(fileDescriptor)
    }

    /// Standard input.
    public static var standardInput: FileDescriptorSource { FileDescriptorSource(fileDescriptor: 0) }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ChunkingError) -> Int {
        do { return try SystemCall.readInterruptibly(fileDescriptor, mayWait: mayWait, into: buffer, path: nil) } catch { throw .readFailed(errno: error.code) }
    }
}

/// Reads from an in-memory byte collection (copied into the reader's buffer piece by piece).
/// For whole in-memory inputs, ``ChunkBoundaryFinder/forEachChunk(in:_:)`` avoids the copy.
public struct BufferSource<Bytes: Collection>: ByteSource where Bytes.Element == UInt8 {
    public let bytes: Bytes
    @usableFromInline var position: Bytes.Index

    public init(_ bytes: Bytes) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ChunkingError) -> Int {
        let end = bytes.index(position, offsetBy: buffer.count, limitedBy: bytes.endIndex) ?? bytes.endIndex
        let piece = bytes[position..<end]
        let copied: Int
        if let fast = piece.withContiguousStorageIfAvailable({ UnsafeRawBufferPointer($0) }) {
            // The pointer escapes the closure only for the copy below; `bytes` keeps it alive.
            buffer.copyMemory(from: fast)
            copied = fast.count
        } else {
            var i = 0
            for byte in piece {
                buffer[i] = byte
                i += 1
            }
            copied = i
        }
        position = end
        return copied
    }
}

/// Reads from a sequence of buffers (e.g. network packets, `[[UInt8]]`), as if concatenated.
public struct BufferSequenceSource<Buffers: Sequence>: ByteSource
where Buffers.Element: Collection, Buffers.Element.Element == UInt8 {
    @usableFromInline var iterator: Buffers.Iterator
    @usableFromInline var current: BufferSource<Buffers.Element>?

    public init(_ buffers: Buffers) {
        self.iterator = buffers.makeIterator()
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ChunkingError) -> Int {
        while true {
            if var source = current {
                let n = try source.read(into: buffer)
                current = source
                if n > 0 { return n }
                current = nil
            }
            guard let next = iterator.next() else { return 0 }
            current = BufferSource(next)
        }
    }
}
