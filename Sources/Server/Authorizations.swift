import Foundation

/// Kubo's `API.Authorizations` (ipfs/kubo docs/config.md; enforced in
/// core/corehttp/commands.go): named secrets, each allowed a list of path prefixes. The file is
/// either the `Authorizations` object itself or a Kubo config holding it at `API.Authorizations`.
struct Authorizations: Sendable {
    struct Entry: Sendable {
        var name: String
        /// The exact `Authorization` header value that matches (`Basic base64(user:pw)` or
        /// `Bearer token`).
        var header: String
        var allowedPaths: [String]
    }

    let entries: [Entry]

    init(file: String) throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ServerError(.authFile, "cannot read the auth file \(file)")
        }
        guard var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ServerError(.authFile, "the auth file \(file) is not a JSON object")
        }
        if let api = object["API"] as? [String: Any], let nested = api["Authorizations"] as? [String: Any] { object = nested }
        var entries: [Entry] = []
        for (name, value) in object.sorted(by: { $0.key < $1.key }) {
            guard let fields = value as? [String: Any], let secret = fields["AuthSecret"] as? String, !secret.isEmpty else {
                throw ServerError(.authFile, "the auth file \(file): '\(name)' has no AuthSecret")
            }
            guard let paths = fields["AllowedPaths"] as? [String] else {
                throw ServerError(.authFile, "the auth file \(file): '\(name)' has no AllowedPaths list")
            }
            entries.append(Entry(name: name, header: try Authorizations.header(for: secret, name: name, file: file), allowedPaths: paths))
        }
        guard !entries.isEmpty else { throw ServerError(.authFile, "the auth file \(file) names no authorization") }
        self.entries = entries
    }

    /// The `Authorization` header a secret stands for: `basic:user:pw`, `bearer:token`, or a
    /// bare token (Kubo assumes `bearer:`).
    static func header(for secret: String, name: String, file: String) throws -> String {
        if secret.hasPrefix("basic:") {
            let credentials = String(secret.dropFirst(6))
            guard credentials.contains(":") else { throw ServerError(.authFile, "the auth file \(file): '\(name)' has a basic secret without user:password") }
            return "Basic " + Data(credentials.utf8).base64EncodedString()
        }
        if secret.hasPrefix("bearer:") { return "Bearer " + secret.dropFirst(7) }
        return "Bearer " + secret
    }

    /// Kubo's answer to a request it refuses (403, text).
    static let denied = "Kubo RPC Access Denied: Please provide a valid authorization token as defined in the API.Authorizations configuration."

    /// Whether the request may go on: its `Authorization` header is exactly one entry's, and the
    /// path is `/api/v0/version` or starts with one of the entry's `AllowedPaths` (a plain
    /// string prefix, as Kubo compares).
    func allows(header: String?, path: String) -> Bool {
        guard let header, let entry = entries.first(where: { $0.header == header }) else { return false }
        return path == "/api/v0/version" || entry.allowedPaths.contains { path.hasPrefix($0) }
    }
}
