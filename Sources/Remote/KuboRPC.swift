import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Kubo's RPC transport (spec/remote.md §3.1, after go-ipfs-cmds http/handler.go and
/// error.go): `POST /api/v0/<command>?arg=…`, every call with a server-side `timeout=` and a
/// client deadline; errors are `{"Message","Code","Type":"error"}` with 500 or 400, a plain-text
/// 404 for an unknown command, a plain-text 403 for refused credentials.
struct KuboRPC: Sendable {
    let http: RemoteHTTP

    /// What a call gave: the answer read by the caller, or an error the caller expects as an
    /// answer (e.g. "not found locally" for `block/stat`).
    enum Outcome<T: Sendable>: Sendable {
        case value(T)
        case expected(String)
    }

    /// Calls `command`. `expected` recognises an error message that is an answer, not a
    /// failure; `read` consumes a 200 answer within the deadline (`small`: see `RemoteHTTP.send`).
    func call<T: Sendable>(
        _ command: String,
        _ query: [(String, String)] = [],
        idempotent: Bool,
        timeout: Duration? = nil,
        headTimeout: Duration? = nil,
        small: Bool = false,
        body: (@Sendable () -> (HTTPClientRequest.Body, String))? = nil,
        expected: @escaping @Sendable (String) -> Bool = { _ in false },
        read: @escaping @Sendable (HTTPClientResponse) async throws -> T
    ) async throws -> Outcome<T> {
        let limit = timeout ?? http.settings.callTimeout
        let http = self.http
        return try await http.send(command, limit: limit, headLimit: headTimeout, idempotent: idempotent, small: small, request: {
            http.request("/api/v0/" + command, method: .POST, query: query + [("timeout", limit.goString)], body: body?())
        }, read: { .value(try await read($0)) }, failure: { status, text in
            let message = Self.message(of: text)
            if status == .internalServerError, expected(message) { return .expected(message) }
            throw Self.failure(status, message, command: command, base: http.base)
        })
    }

    /// The `Message` of a Kubo error body, else its first line.
    static func message(of text: String) -> String {
        struct Body: Decodable { var Message: String }
        if let body = try? JSONDecoder().decode(Body.self, from: Data(text.utf8)) { return body.Message }
        return String(text.split(separator: "\n").first ?? "")
    }

    static func failure(_ status: HTTPResponseStatus, _ message: String, command: String, base: String) -> RemoteError {
        switch status.code {
        case 401, 403:
            RemoteError(.unauthorized, "\(base) refused the credentials for \(command) (HTTP \(status.code)); check --api-auth")
        case 404, 405:
            RemoteError(.unsupported, "\(base) has no /api/v0/\(command) (HTTP \(status.code)): is it a Kubo RPC API?")
        default:
            httpFailure(status, message, what: command, base: base)
        }
    }

    /// Calls `command` and decodes its one JSON answer, at most `limit` bytes: the answers
    /// read so (`version`, `pin/add`, `pin/rm`, `pin/ls` of one CID) name a handful of CIDs, and
    /// an answer padded to the general 16 MiB cost ten times that in memory once decoded.
    func json<T: Decodable & Sendable>(
        _ type: T.Type, _ command: String, _ query: [(String, String)] = [], idempotent: Bool, limit: Int = 1 << 20,
        expected: @escaping @Sendable (String) -> Bool = { _ in false }
    ) async throws -> Outcome<T> {
        try await call(command, query, idempotent: idempotent, expected: expected) { response in
            try decode(T.self, try await collectBody(response, limit: limit, command), command)
        }
    }
}

/// Decodes one JSON value, with a one-line error naming the call.
func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], _ what: String) throws -> T {
    do {
        return try JSONDecoder().decode(T.self, from: Data(bytes))
    } catch {
        throw RemoteError(.remote, "\(what): unexpected answer: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
