@_exported public import CairnErrors

/// The one error type of the `Engine` module (spec/engine.md): a closed `code` to compare, and
/// a one-line `message` for people.
public typealias EngineError = CairnFailure<EngineErrorCode>

/// The kind of failure; new codes may be added without breaking callers' `switch`es.
public struct EngineErrorCode: ErrorCode {
    public let rawValue: UInt8
    init(_ raw: UInt8) { self.rawValue = raw }

    /// A block the DAG needs is not available.
    public static let notFound = EngineErrorCode(1)
    /// The DAG is not what the operation needs (not UnixFS, malformed, a cycle, a
    /// directory where a file was expected).
    public static let invalidDAG = EngineErrorCode(2)
    /// A name or symlink target the tree writer refuses to create.
    public static let unsafeName = EngineErrorCode(3)
    /// A file-system call failed (the message names the call's path).
    public static let io = EngineErrorCode(4)
    /// The caller passed something the operation refuses (an existing output, a range).
    public static let invalidInput = EngineErrorCode(5)

    public static let names = ["notFound", "invalidDAG", "unsafeName", "io", "invalidInput"]
}
