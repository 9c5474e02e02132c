@_exported public import CairnErrors

/// Why `cairn serve` could not start (spec/api.md §4): a code for callers, a one-line message
/// for people. Request failures are answered over HTTP instead, never thrown out of the server.
public typealias ServerError = CairnFailure<ServerErrorCode>

/// The kinds of `ServerError` (its `Code`).
public struct ServerErrorCode: ErrorCode {
    public let rawValue: UInt8
    init(_ raw: UInt8) { self.rawValue = raw }
    /// A listener on a non-loopback address without `--auth-file` or
    /// `--allow-unauthenticated` (a usage error at the CLI).
    public static let unauthenticated = ServerErrorCode(1)
    /// The auth file is missing, unreadable or not Kubo's `API.Authorizations` shape.
    public static let authFile = ServerErrorCode(2)
    /// The store could not be opened (or created).
    public static let store = ServerErrorCode(3)
    /// A listener's address cannot be bound (in use, not this machine's, not permitted).
    public static let listen = ServerErrorCode(4)

    public static let names = ["unauthenticated", "authFile", "store", "listen"]
}
