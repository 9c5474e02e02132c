@_exported public import CairnErrors
import CairnSystem

/// The one error type of the `BlockStore` module.
///
/// `code` says what kind of failure it is (stable, for comparisons), `message` is a one-line
/// description for people, and `errno` carries the operating system's error number when a
/// system call failed. Shaped after swift-nio's `FileSystemError` / `IOError`.
public struct BlockStoreError: CairnError {
    /// The kind of failure: a struct with static members so codes can be added later without
    /// breaking callers' `switch`es.
    public struct Code: ErrorCode {
        public let rawValue: UInt8
        init(_ raw: UInt8) { self.rawValue = raw }

        /// A system call failed (see `errno`).
        public static let io = Code(1)
        /// Stored bytes do not hash to their CID, or an index row points past its pack's end.
        public static let corrupt = Code(2)
        /// The block (or pin) asked for is not in the store.
        public static let notFound = Code(3)
        /// The store was written by a newer or unknown format version.
        public static let formatVersion = Code(4)
        /// The caller passed something the store refuses (bytes not matching their CID, an
        /// unsupported hash function, a block too large).
        public static let invalidInput = Code(5)
        /// SQLite (through GRDB) reported an error.
        public static let database = Code(6)
        /// There is no store at the path (for operations that never create one).
        public static let noStore = Code(7)
        /// An operation was refused because it would lose data (e.g. removing a pinned block).
        public static let refused = Code(8)
        /// A DAG that is not what the operation needs (not UnixFS, malformed, a directory
        /// where a file was expected, an unsafe entry name).
        public static let invalidDAG = Code(9)
        /// The store lock was not free before the caller's timeout.
        public static let busy = Code(10)

        public static let names = [
            "io", "corrupt", "notFound", "formatVersion", "invalidInput", "database", "noStore",
            "refused", "invalidDAG", "busy",
        ]
    }

    public var code: Code
    public var message: String
    /// The `errno` of the failed system call, for `.io` errors.
    public var errno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    public var description: String { message }
}
