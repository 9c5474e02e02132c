/// Why `cairn serve` could not start (spec/api.md §4): a code for callers, a one-line message
/// for people. Request failures are answered over HTTP instead, never thrown out of the server.
public struct ServerError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let value: Int
        init(_ value: Int) { self.value = value }
        /// A listener on a non-loopback address without `--auth-file` or
        /// `--allow-unauthenticated` (a usage error at the CLI).
        public static let unauthenticated = Code(1)
        /// The auth file is missing, unreadable or not Kubo's `API.Authorizations` shape.
        public static let authFile = Code(2)
        /// The store could not be opened (or created).
        public static let store = Code(3)

        public var description: String {
            switch value {
            case 1: "unauthenticated"
            case 2: "authFile"
            default: "store"
            }
        }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
