import CairnSystem

/// A failure during an import (not a bad option): a read error, an impossible CID. The one
/// error pattern of spec/api.md §4: a stable `code` and a one-line `message`.
public struct ImportError: CairnError {
    /// The kind of failure: a struct with static members so codes can be added later.
    public struct Code: ErrorCode {
        public let rawValue: UInt8
        init(_ raw: UInt8) { self.rawValue = raw }

        /// A file, directory or link could not be opened, read or examined.
        public static let io = Code(1)
        /// Something that cannot be imported: a device or socket, a directory without `-r`.
        public static let unsupportedFile = Code(2)
        /// A file changed size while it was being read.
        public static let changed = Code(3)
        /// Following symlinks led back into a directory being imported.
        public static let symlinkCycle = Code(4)
        /// A block cannot get the CID the parameters ask for (inline or identity limits,
        /// a multihash that cannot be made).
        public static let invalidBlock = Code(5)
        /// A directory over a limit (links, HAMT hash collisions).
        public static let limitExceeded = Code(6)
        /// The parameters do not fit this input (metadata on a raw-leaf file root).
        public static let invalidParameters = Code(7)

        public static let names = [
            "io", "unsupported file", "changed", "symlink cycle", "invalid block", "limit exceeded",
            "invalid parameters",
        ]
    }

    public var code: Code
    /// One line for people, naming the file at fault.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
