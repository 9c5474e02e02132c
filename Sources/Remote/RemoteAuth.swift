import CAR
import Foundation

/// Credentials for a remote, in Kubo's `--api-auth` form (spec/remote.md §1.2):
/// `basic:USER:PASSWORD` or `bearer:TOKEN` (a secret without a prefix is a bearer token, as
/// in Kubo's `config.ConvertAuthSecret`). Never printed: `description` hides the secret.
public struct RemoteAuth: Sendable, CustomStringConvertible {
    /// The `Authorization` header value sent with every call.
    let header: String
    /// The strings a remote could echo back that give the secret away (the header value, its
    /// encoded or bare secret, the password, the user:password pair): removed from any text of
    /// the remote's before it is shown (spec/remote.md §1.2).
    let secrets: [String]

    public init(parsing text: String) throws(RemoteError) {
        if text.hasPrefix("basic:") {
            let pair = text.dropFirst("basic:".count)
            guard let colon = pair.firstIndex(of: ":"), colon != pair.startIndex else {
                throw RemoteError(.usage, "--api-auth basic: takes basic:USER:PASSWORD")
            }
            header = "Basic " + Data(pair.utf8).base64EncodedString()
            let password = String(pair[pair.index(after: colon)...])
            secrets = [header, Data(pair.utf8).base64EncodedString(), String(pair)] + (password.count >= 4 ? [password] : [])
        } else {
            let token = text.hasPrefix("bearer:") ? String(text.dropFirst("bearer:".count)) : text
            guard !token.isEmpty else { throw RemoteError(.usage, "--api-auth takes basic:USER:PASSWORD or bearer:TOKEN") }
            header = "Bearer " + token
            secrets = [header] + (token.count >= 4 ? [token] : [])
        }
    }

    /// `text` with every occurrence of the secret replaced by `<credentials hidden>`.
    public func redacting(_ text: String) -> String {
        secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: "<credentials hidden>") }
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
    /// A CAR whose order is unknown (`order=unk`): the most blocks received but not yet linked
    /// from the root through blocks received (a CAR written leaves first has its leaves so
    /// until their parents come); more fail the fetch (spec/remote.md §6).
    public var maxUnlinkedBlocks = 1 << 20
    /// The most CIDs a fetch's checks may hold at once (the depth-first walk's stack, links
    /// expected, links of blocks not yet linked): more fail the fetch (spec/remote.md §6).
    public var maxHeldLinks = 1 << 19
    /// Keys of received blocks a fetch keeps in memory before they spill to disk (32 bytes
    /// each, `SpillingCIDSet`); tests lower it.
    public var receivedKeysInMemory = SpillingKeySet.walkMemoryLimit

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
