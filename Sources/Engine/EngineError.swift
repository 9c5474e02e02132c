import CairnSystem

/// The one error type of the `Engine` module (spec/engine.md): a closed `code` to compare, and
/// a one-line `message` for people.
public struct EngineError: CairnError {
    /// The kind of failure; new codes may be added without breaking callers' `switch`es.
    public struct Code: ErrorCode {
        public let rawValue: UInt8
        init(_ raw: UInt8) { self.rawValue = raw }

        /// A block the DAG needs is not available.
        public static let notFound = Code(1)
        /// The DAG is not what the operation needs (not UnixFS, malformed, a cycle, a
        /// directory where a file was expected).
        public static let invalidDAG = Code(2)
        /// A name or symlink target the tree writer refuses to create.
        public static let unsafeName = Code(3)
        /// A file-system call failed (the message names the call's path).
        public static let io = Code(4)
        /// The caller passed something the operation refuses (an existing output, a range).
        public static let invalidInput = Code(5)

        public static let names = ["notFound", "invalidDAG", "unsafeName", "io", "invalidInput"]
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
