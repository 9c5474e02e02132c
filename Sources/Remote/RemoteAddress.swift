/// Where a remote block holder is, and which protocol it speaks (spec/remote.md §1):
/// `http(s)://HOST:PORT` or a multiaddr `/ip4/HOST/tcp/PORT` is Kubo RPC,
/// `cluster+http(s)://…` an IPFS Cluster REST API, `gateway+http(s)://…` a trustless gateway.
public struct RemoteAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        case kubo, cluster, gateway
    }

    public let kind: Kind
    /// The base URL requests are made against, without a trailing slash (`http://127.0.0.1:5001`).
    public let baseURL: String

    public init(kind: Kind, baseURL: String) {
        self.kind = kind
        self.baseURL = baseURL
    }

    public init(parsing text: String) throws(RemoteError) {
        let trimmed = text.trimmingSuffix("/")
        if trimmed.hasPrefix("/") {
            self = try Self.multiaddr(trimmed, original: text)
            return
        }
        var kind = Kind.kubo, rest = Substring(trimmed)
        for (prefix, k) in [("cluster+", Kind.cluster), ("gateway+", Kind.gateway)] where rest.hasPrefix(prefix) {
            kind = k
            rest = rest.dropFirst(prefix.count)
        }
        guard rest.hasPrefix("http://") || rest.hasPrefix("https://") else {
            throw RemoteError(.usage, "'\(text)' is not a remote address: use http(s)://HOST:PORT, /ip4/HOST/tcp/PORT, cluster+http(s)://… or gateway+http(s)://…")
        }
        let afterScheme = rest.drop(while: { $0 != ":" }).dropFirst(3)
        guard !afterScheme.isEmpty, !afterScheme.contains(where: { $0 == " " || $0 == "@" }) else {
            // USER:PASSWORD@ is not repeated in the message.
            var shown = text
            if let at = shown.lastIndex(of: "@"), let colon = shown.firstIndex(of: ":") {
                let start = shown[colon...].prefix(3) == "://" ? shown.index(colon, offsetBy: 3) : shown.index(after: colon)
                if start <= at { shown.replaceSubrange(start..<at, with: "…") }
            }
            throw RemoteError(.usage, "'\(shown)' has no host (or puts credentials in the URL: use --api-auth)")
        }
        // Requests are made by appending their path (`/api/v0/…`, `/ipfs/…`) to the address:
        // a path prefix (a node behind a reverse proxy) works, a query or fragment would not.
        guard !afterScheme.contains("?"), !afterScheme.contains("#") else {
            throw RemoteError(.usage, "'\(text)' has a query or fragment: a remote address is http(s)://HOST:PORT, optionally with a path prefix")
        }
        // HOST[:PORT] up to the path: a port, when given, is 1–65535 (NIO traps on more).
        let authority = afterScheme.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        let afterHost = authority.hasPrefix("[") ? authority.drop(while: { $0 != "]" }).dropFirst() : authority.drop(while: { $0 != ":" })
        if afterHost.hasPrefix(":") {
            guard let port = Int(afterHost.dropFirst()), (1...65535).contains(port), afterHost.dropFirst().allSatisfy(\.isASCII) else {
                throw RemoteError(.usage, "'\(text)' has no valid port: a port is 1–65535")
            }
        } else if !afterHost.isEmpty {
            throw RemoteError(.usage, "'\(text)' is not a remote address: use http(s)://HOST:PORT")
        }
        self.init(kind: kind, baseURL: String(rest))
    }

    private static func multiaddr(_ text: String, original: String) throws(RemoteError) -> RemoteAddress {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5 || (parts.count == 6 && parts[5] == "http"),
              ["ip4", "ip6", "dns", "dns4", "dns6"].contains(parts[1]), parts[3] == "tcp",
              let port = Int(parts[4]), (1...65535).contains(port), !parts[2].isEmpty
        else {
            throw RemoteError(.usage, "'\(original)' is not a multiaddr of the form /ip4/HOST/tcp/PORT")
        }
        // An /ip4/ or /ip6/ address is a literal, never a name to look up.
        if parts[1] == "ip4" {
            let octets = parts[2].split(separator: ".", omittingEmptySubsequences: false)
            guard octets.count == 4, octets.allSatisfy({ $0.count <= 3 && $0.allSatisfy(\.isASCII) && Int($0).map { (0...255).contains($0) } == true }) else {
                throw RemoteError(.usage, "'\(original)': \(parts[2]) is not an IPv4 address")
            }
        } else if parts[1] == "ip6" {
            guard parts[2].contains(":"), parts[2].allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw RemoteError(.usage, "'\(original)': \(parts[2]) is not an IPv6 address")
            }
        }
        let host = parts[1] == "ip6" ? "[\(parts[2])]" : String(parts[2])
        return RemoteAddress(kind: .kubo, baseURL: "http://\(host):\(port)")
    }

    public var description: String {
        switch kind {
        case .kubo: baseURL
        case .cluster: "cluster+" + baseURL
        case .gateway: "gateway+" + baseURL
        }
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: Character) -> String {
        var text = self
        while text.count > 1, text.last == suffix { text.removeLast() }
        return text
    }
}
