public import BlockStore

/// Where one of the server's listeners binds: a host (name or literal address) and a port
/// (0 picks a free port, reported once the listener runs).
public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `HOST:PORT`, `[V6]:PORT`, or a multiaddr `/ip4/HOST/tcp/PORT` / `/ip6/HOST/tcp/PORT`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        if text.hasPrefix("/") {
            guard parts.count == 5, parts[1] == "ip4" || parts[1] == "ip6" || parts[1] == "dns",
                  parts[3] == "tcp", let port = Int(parts[4]), (0...65535).contains(port), !parts[2].isEmpty
            else { return nil }
            self.init(host: String(parts[2]), port: port)
            return
        }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    /// Whether the address is on this machine only (127.0.0.0/8, ::1, localhost).
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The multiaddr form Kubo prints (`/ip4/127.0.0.1/tcp/5001`).
    public var multiaddr: String {
        (host.contains(":") ? "/ip6/" : "/ip4/") + host + "/tcp/\(port)"
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Everything `cairn serve` is configured with.
public struct ServerConfiguration: Sendable {
    /// The store served.
    public var store: StoreLayout
    /// The Kubo RPC listener (nil: none).
    public var api: ListenAddress?
    /// The trustless-gateway listener (nil: none).
    public var gateway: ListenAddress?
    /// Kubo's `API.Authorizations` file (nil: no authorisation).
    public var authFile: String?
    /// Refuse every request that writes.
    public var readOnly: Bool
    /// Allow a non-loopback listener without an auth file.
    public var allowUnauthenticated: Bool
    /// Body size, upload count and timeout limits.
    public var limits: ServerLimits

    public init(
        store: StoreLayout,
        api: ListenAddress? = ListenAddress(host: "127.0.0.1", port: 5001),
        gateway: ListenAddress? = ListenAddress(host: "127.0.0.1", port: 8080),
        authFile: String? = nil,
        readOnly: Bool = false,
        allowUnauthenticated: Bool = false,
        limits: ServerLimits = ServerLimits()
    ) {
        self.limits = limits
        self.store = store
        self.api = api
        self.gateway = gateway
        self.authFile = authFile
        self.readOnly = readOnly
        self.allowUnauthenticated = allowUnauthenticated
    }
}
