@_exported public import CairnErrors
import CairnSystem

/// A failure talking to a remote block holder: a code for callers, a one-line message for people.
public struct RemoteError: CairnError {
    public struct Code: ErrorCode {
        public let rawValue: UInt8
        init(_ raw: UInt8) { self.rawValue = raw }
        /// The address or the request is not usable (exit 64 at the CLI).
        public static let usage = Code(1)
        /// The remote answered with an error.
        public static let remote = Code(2)
        /// The remote could not be reached, or did not answer in time.
        public static let unreachable = Code(3)
        /// The remote sent bytes that do not verify (wrong hash, a block outside the DAG, …).
        public static let verification = Code(4)
        /// The credentials were refused.
        public static let unauthorized = Code(5)
        /// The remote is too old, or lacks the call, for what was asked.
        public static let unsupported = Code(6)

        public static let names = [
            "usage", "remote", "unreachable", "verification", "unauthorized", "unsupported",
        ]
    }

    public let code: Code
    public let message: String
    /// Whether trying the same idempotent call again may succeed (a 5xx, a lost connection).
    public let isTransient: Bool
    /// Whether the call failed before any of it reached the remote (no connection could be
    /// made): then even a call that is not idempotent may be made again.
    public let nothingSent: Bool

    public init(_ code: Code, _ message: String, transient: Bool = false, nothingSent: Bool = false) {
        self.code = code
        self.message = message
        self.isTransient = transient
        self.nothingSent = nothingSent
    }

    public var description: String { message }
}
