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
    /// failure; `read` consumes a 200 answer within the deadline.
    func call<T: Sendable>(
        _ command: String,
        _ query: [(String, String)] = [],
        idempotent: Bool,
        timeout: Duration? = nil,
        body: (@Sendable () -> (HTTPClientRequest.Body, String))? = nil,
        expected: @escaping @Sendable (String) -> Bool = { _ in false },
        read: @escaping @Sendable (HTTPClientResponse) async throws -> T
    ) async throws -> Outcome<T> {
        let limit = timeout ?? http.settings.callTimeout
        let what = command
        let http = self.http
        return try await http.retrying(idempotent: idempotent) {
            var prepared = http.request("/api/v0/" + command, method: .POST, query: query + [("timeout", limit.goString)])
            if let body {
                let (content, type) = body()
                prepared.body = content
                prepared.headers.add(name: "Content-Type", value: type)
            }
            let request = prepared
            return try await http.withDeadline(limit, what) {
                let response: HTTPClientResponse
                do {
                    response = try await http.client.execute(request, timeout: .nanoseconds(Int64(limit.nanoseconds)))
                } catch {
                    throw http.transportError(error, what)
                }
                if response.status == .ok {
                    do { return .value(try await read(response)) } catch { throw http.transportError(error, what) }
                }
                let text = String(decoding: (try? await collectBody(response, limit: 64 << 10, what)) ?? [], as: UTF8.self)
                let message = Self.message(of: text)
                if response.status == .internalServerError, expected(message) { return .expected(message) }
                throw Self.failure(response.status, message, command: command, base: http.base)
            }
        }
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
            return RemoteError(.unauthorized, "\(base) refused the credentials for \(command) (HTTP \(status.code)); check --api-auth")
        case 404, 405:
            return RemoteError(.unsupported, "\(base) has no /api/v0/\(command) (HTTP \(status.code)): is it a Kubo RPC API?")
        case 500...599:
            return RemoteError(.remote, "\(command) failed on \(base) (HTTP \(status.code)): \(message)", transient: true)
        default:
            return RemoteError(.remote, "\(command) failed on \(base) (HTTP \(status.code)): \(message)")
        }
    }

    /// Calls `command` and decodes its one JSON answer.
    func json<T: Decodable & Sendable>(
        _ type: T.Type, _ command: String, _ query: [(String, String)] = [], idempotent: Bool,
        expected: @escaping @Sendable (String) -> Bool = { _ in false }
    ) async throws -> Outcome<T> {
        try await call(command, query, idempotent: idempotent, expected: expected) { response in
            try decode(T.self, try await collectBody(response, command), command)
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
