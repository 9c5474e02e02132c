import Foundation

/// Credentials for a remote, in Kubo's `--api-auth` form (spec/remote.md §1.2):
/// `basic:USER:PASSWORD` or `bearer:TOKEN` (a secret without a prefix is a bearer token, as
/// in Kubo's `config.ConvertAuthSecret`). Never printed: `description` hides the secret.
public struct RemoteAuth: Sendable, CustomStringConvertible {
    /// The `Authorization` header value sent with every call.
    let header: String

    public init(parsing text: String) throws(RemoteError) {
        if text.hasPrefix("basic:") {
            let pair = text.dropFirst("basic:".count)
            guard let colon = pair.firstIndex(of: ":"), colon != pair.startIndex else {
                throw RemoteError(.usage, "--api-auth basic: takes basic:USER:PASSWORD")
            }
            header = "Basic " + Data(pair.utf8).base64EncodedString()
        } else {
            let token = text.hasPrefix("bearer:") ? String(text.dropFirst("bearer:".count)) : text
            guard !token.isEmpty else { throw RemoteError(.usage, "--api-auth takes basic:USER:PASSWORD or bearer:TOKEN") }
            header = "Bearer " + token
        }
    }

    public var description: String { "<credentials hidden>" }
}

/// How every call to a remote behaves: credentials, deadlines, concurrency, retries.
public struct RemoteSettings: Sendable {
    public var auth: RemoteAuth?
    /// The deadline of one call (also sent to Kubo as its server-side `timeout=`).
    public var callTimeout: Duration = .seconds(120)
    /// Calls in flight at once for existence checks.
    public var concurrency = 32
    /// Attempts of an idempotent call (the first included).
    public var attempts = 4
    /// The pause before the first retry; doubled after each.
    public var backoff: Duration = .milliseconds(100)
    /// The IPFS Cluster backend's options.
    public var cluster = ClusterOptions()
    /// How a trustless gateway is fetched from: one CAR, or block by block (`format=raw`).
    public var fetchMode = FetchMode.car

    public init(auth: RemoteAuth? = nil) {
        self.auth = auth
    }
}

/// How a fetch from a trustless gateway asks for the DAG (spec/remote.md §6).
public enum FetchMode: String, Sendable, CaseIterable {
    /// One `?format=car` stream; a gateway refusing it (406, 501) is asked block by block.
    case car
    /// One `?format=raw` request per block.
    case raw
}
