@_exported public import CairnErrors

/// A failure during an import (not a bad option): a read error, an impossible CID. The one
/// error pattern of spec/api.md §4: a stable `code` and a one-line `message`.
public typealias ImportError = CairnFailure<ImportErrorCode>

/// The kind of failure: a struct with static members so codes can be added later.
public struct ImportErrorCode: ErrorCode {
    public let rawValue: UInt8
    init(_ raw: UInt8) { self.rawValue = raw }

    /// A file, directory or link could not be opened, read or examined.
    public static let io = ImportErrorCode(1)
    /// Something that cannot be imported: a device or socket, a directory without `-r`.
    public static let unsupportedFile = ImportErrorCode(2)
    /// A file changed size while it was being read.
    public static let changed = ImportErrorCode(3)
    /// Following symlinks led back into a directory being imported.
    public static let symlinkCycle = ImportErrorCode(4)
    /// A block cannot get the CID the parameters ask for (inline or identity limits,
    /// a multihash that cannot be made).
    public static let invalidBlock = ImportErrorCode(5)
    /// A directory over a limit (links, HAMT hash collisions).
    public static let limitExceeded = ImportErrorCode(6)
    /// The parameters do not fit this input (metadata on a raw-leaf file root).
    public static let invalidParameters = ImportErrorCode(7)

    public static let names = [
        "io", "unsupported file", "changed", "symlink cycle", "invalid block", "limit exceeded",
        "invalid parameters",
    ]
}
