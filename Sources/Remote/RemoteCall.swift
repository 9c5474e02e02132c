import AsyncHTTPClient
import BlockStore
import Engine
import Foundation
import Multiformats
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// One HTTP client per remote session, with as many keep-alive connections as calls in flight
/// (spec/remote.md §2.1).
final class RemoteHTTP: Sendable {
    let client: HTTPClient
    let settings: RemoteSettings
    let base: String

    init(base: String, settings: RemoteSettings) {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, settings.concurrency))
        // A connection that cannot be made fails the calls waiting for it at once, to be made
        // again by `retrying` (a few tries, 0.1 s doubling), uploads included since nothing of
        // them was sent (`nothingSent`): AHC's own retries went on until its 10 s connect
        // timeout each time, 40 s in all for a node that is not there.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        // Kubo's RPC, the Cluster's API and gateways do not redirect: one that does is reported,
        // never followed (the body and the credentials go only to the address given).
        configuration.redirectConfiguration = .disallow
        // A quiet connection past the call deadline fails the call even after its answer
        // began (AHC's own deadline covers only the wait for the status line).
        configuration.timeout.read = .nanoseconds(settings.callTimeout.nanoseconds)
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.settings = settings
        self.base = base
    }

    func close() async {
        try? await client.shutdown()
    }

    /// A request to `base + path` with the credentials set, and `body` with its content type.
    func request(
        _ path: String, method: HTTPMethod, query: [(String, String)] = [], body: (HTTPClientRequest.Body, String)? = nil
    ) -> HTTPClientRequest {
        var url = base + path
        if !query.isEmpty {
            url += "?" + query.map { "\($0.0)=\(escape($0.1))" }.joined(separator: "&")
        }
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let auth = settings.auth { request.headers.add(name: "Authorization", value: auth.header) }
        if let (content, type) = body {
            request.body = content
            request.headers.add(name: "Content-Type", value: type)
        }
        return request
    }

    /// Sends the request `make` builds (once per attempt; retried only when `idempotent`) under
    /// the deadline `limit` (the status line under `headLimit` when given: a stream's answer
    /// must begin within a call's deadline, however long it may then last). A 2xx answer goes to `read`; any other status to `failure`, with
    /// the start of the body as text, which returns an answer or throws. A `small` answer (a
    /// few bytes, read at once) needs no deadline task of its own: AHC's deadline covers the
    /// wait for the status line and its read timeout the rest, which saves two tasks a call.
    func send<T: Sendable>(
        _ what: String, limit: Duration, headLimit: Duration? = nil, idempotent: Bool, small: Bool = false,
        request make: @escaping @Sendable () -> HTTPClientRequest,
        read: @escaping @Sendable (HTTPClientResponse) async throws -> T,
        failure: @escaping @Sendable (HTTPResponseStatus, String) throws -> T
    ) async throws -> T {
        try await retrying(idempotent: idempotent) {
            let request = make()
            let exchange: @Sendable () async throws -> T = {
                let response: HTTPClientResponse
                do {
                    response = try await self.client.execute(request, timeout: .nanoseconds((headLimit ?? limit).nanoseconds))
                } catch {
                    throw self.transportError(error, what, limit: headLimit ?? limit)
                }
                if (200..<300).contains(response.status.code) {
                    do { return try await read(response) } catch { throw self.transportError(error, what, limit: limit, answering: true) }
                }
                if (300..<400).contains(response.status.code) {
                    let location = response.headers.first(name: "Location").map { " to \(self.redact($0))" } ?? ""
                    throw RemoteError(.remote, "\(what): \(self.base) answered with a redirect (HTTP \(response.status.code))\(location), which is not followed")
                }
                // The remote's own text, with anything that would give the credentials away
                // removed (a server may echo the Authorization header back).
                // A body that fails to come whole reads as empty, except one dripped past the
                // call's deadline: that is the deadline's error, not the status alone.
                var body: [UInt8] = []
                do { body = try await collectBody(response, limit: 64 << 10, what) } catch let error as RemoteError where error.code == .unreachable {
                    throw error
                } catch let error as HTTPClientError where error == .readTimeout || error == .deadlineExceeded {
                    // The same silence seen by the client's own timers first (a loaded host).
                    throw self.transportError(error, what, limit: limit, answering: true)
                } catch {}
                let text = self.redact(String(decoding: body, as: UTF8.self))
                return try failure(response.status, text)
            }
            // A small call's body is read under `CallDeadline` (checked on every piece), so an
            // answer dripping a byte at a time cannot outlast the deadline either.
            return try await small
                ? CallDeadline.$current.withValue(CallDeadline(end: .now + limit, limit: limit, base: self.base)) { try await exchange() }
                : self.withDeadline(limit, what, exchange)
        }
    }

    /// Runs `operation` with a deadline: past it, the call is cancelled and a `.unreachable`
    /// error names what did not answer.
    func withDeadline<T: Sendable>(
        _ limit: Duration, _ what: String, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            // Transient, as AHC's own deadline is: an idempotent call past it is tried again
            // (`version` and `pin/ls` were tried once where `block/stat` was tried four times).
            guard let first = try await group.next(), let value = first else {
                throw RemoteError(.unreachable, "\(what): no answer from \(base) within \(limit.goString)", transient: true)
            }
            return value
        }
    }

    /// Runs `attempt` once, or for an idempotent call up to `settings.attempts` times with
    /// doubling pauses, retrying only what `retryable` says is transient.
    func retrying<T: Sendable>(idempotent: Bool, _ attempt: @Sendable () async throws -> T) async throws -> T {
        var pause = settings.backoff
        var tries = 1
        while true {
            do {
                return try await attempt()
            } catch let error as RemoteError where (idempotent || error.nothingSent) && tries < settings.attempts && error.isTransient {
                try await Task.sleep(for: pause)
                pause = pause * 2
                tries += 1
            }
        }
    }

    /// A failure while an answer's body was being read, as one line: the transport's own
    /// (a silence past the read timeout, a connection closed mid-body, broken chunked framing)
    /// named as such; any other error (the verifier's, the store's) unchanged.
    func streamFailure(_ error: any Error, _ what: String) -> any Error {
        switch error {
        case let error as HTTPClientError where error == .readTimeout || error == .deadlineExceeded:
            return RemoteError(.unreachable, "\(what): no answer from \(base) within \(settings.callTimeout.goString)", transient: true)
        case let error as HTTPParserError:
            return RemoteError(.remote, "\(what): \(base) broke off or garbled its answer (\(error))")
        case is HTTPClientError, is IOError, is ChannelError:
            return RemoteError(.unreachable, "\(what): the connection to \(base) failed mid-answer: \(error)")
        default:
            return error
        }
    }

    /// `text` (the remote's) without the credentials.
    func redact(_ text: String) -> String { settings.auth?.redacting(text) ?? text }

    /// Maps a transport failure to a one-line error.
    /// `answering`: the answer had begun (its status line came), so a timeout is an answer
    /// that did not come whole, whichever timer saw it first (the call's deadline, or the
    /// client's read timeout on a loaded host).
    func transportError(_ error: any Error, _ what: String, limit: Duration? = nil, answering: Bool = false) -> any Error {
        if error is RemoteError || error is CancellationError { return error }
        if let http = error as? HTTPClientError, http == .deadlineExceeded || http == .readTimeout {
            let within = (limit ?? settings.callTimeout).goString
            if answering { return RemoteError(.unreachable, "\(what): no complete answer from \(base) within \(within)", transient: true) }
            return RemoteError(.unreachable, "\(what): no answer from \(base) within \(within)", transient: true)
        }
        return RemoteError(.unreachable, "\(what): cannot reach \(base): \(Self.reason(error))", transient: true,
                           nothingSent: Self.isConnectFailure(error))
    }

    /// Whether `error` is a failure to make the connection (refused, unreachable, timed out
    /// connecting), before any byte of a request could be sent on it.
    static func isConnectFailure(_ error: any Error) -> Bool {
        if let http = error as? HTTPClientError { return http == .connectTimeout }
        if let io = error as? IOError {
            return [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL].contains(io.errnoCode)
        }
        // Every address tried failed to connect (NIOPosix's happy-eyeballs connector).
        return error is NIOConnectionError
    }

    /// A transport failure in a few words: the system's text for an errno (NIO's own reads
    /// "connection reset (error set): Connection refused) (errno: 111)"), else the error's.
    static func reason(_ error: any Error) -> String {
        if let io = error as? IOError {
            return String(cString: strerror(io.errnoCode)).lowercased()
        }
        // Every address of a name failed: the name that did not resolve, or the first
        // address's failure in the system's words.
        if let failed = error as? NIOConnectionError {
            if failed.connectionErrors.isEmpty, failed.dnsAError != nil || failed.dnsAAAAError != nil {
                return "the name \(failed.host) does not resolve"
            }
            if let first = failed.connectionErrors.first {
                return "\(reason(first.error)) (\(first.target.ipAddress ?? failed.host))"
            }
        }
        if let http = error as? HTTPClientError, http == .connectTimeout {
            return "the connection timed out"
        }
        if let http = error as? HTTPClientError, http == .remoteConnectionClosed {
            return "the remote closed the connection"
        }
        return "\(error)"
    }
}

/// A remote error for a failed status: refused credentials, a transient 5xx, or another failure.
func httpFailure(_ status: HTTPResponseStatus, _ message: String, what: String, base: String) -> RemoteError {
    let detail = message.isEmpty ? "" : ": \(message)"
    switch status.code {
    case 401, 403: return RemoteError(.unauthorized, "\(base) refused the credentials for \(what) (HTTP \(status.code)); check --api-auth")
    case 500...599: return RemoteError(.remote, "\(what) failed on \(base) (HTTP \(status.code))\(detail)", transient: true)
    default: return RemoteError(.remote, "\(what) failed on \(base) (HTTP \(status.code))\(detail)")
    }
}

/// Fails when a fully read answer ended with an `X-Stream-Error` trailer: Kubo (go-ipfs-cmds
/// http/responseemitter.go) and the Cluster (api/common/api.go) report an error that happens
/// after the 200 status line only there.
func checkStreamError(_ response: HTTPClientResponse, _ what: String) throws {
    if let message = response.body.trailers?["X-Stream-Error"].first, !message.isEmpty {
        throw RemoteError(.remote, "\(what): the remote failed while answering: \(message)")
    }
}

/// The end of a small call (`RemoteHTTP.send(small:)`), for the body readers to check: the
/// read timeout restarts with every byte, so a remote dripping its answer would hold the call
/// far past its deadline without it.
struct CallDeadline: Sendable {
    let end: ContinuousClock.Instant
    let limit: Duration
    let base: String
    @TaskLocal static var current: CallDeadline?

    /// Throws `.unreachable` once the current small call's deadline has passed.
    static func check(_ what: String) throws {
        guard let deadline = current, ContinuousClock.now > deadline.end else { return }
        throw RemoteError(.unreachable, "\(what): no complete answer from \(deadline.base) within \(deadline.limit.goString)")
    }
}

/// Reads a whole (small) body, up to `limit` bytes.
func collectBody(_ response: HTTPClientResponse, limit: Int = 16 << 20, _ what: String) async throws -> [UInt8] {
    var bytes: [UInt8] = []
    for try await buffer in response.body {
        try CallDeadline.check(what)
        guard bytes.count + buffer.readableBytes <= limit else {
            throw RemoteError(.remote, "\(what): the answer is larger than \(limit) bytes")
        }
        bytes.append(contentsOf: buffer.readableBytesView)
    }
    try checkStreamError(response, what)
    return bytes
}

/// The size of each block `cids` in `blocks` (from a store's index: no block is read, nothing
/// is mapped); a block missing there is an error naming it.
func blockSizes(of cids: [CID], in blocks: some BlockGetter) throws -> [Int] {
    let store = blocks as? BlockStore
    return try cids.map { cid in
        if let size = try store?.size(of: cid) { return size }
        if let bytes = try blocks.block(cid, verified: false) { return bytes.count }
        throw RemoteError(.usage, "block \(cid) is not in the local store")
    }
}

/// The deadline of an upload of `bytes`: the call deadline, or 4 MiB/s for a large one.
func uploadTimeout(_ bytes: UInt64, _ settings: RemoteSettings) -> Duration {
    max(settings.callTimeout, .seconds(Int64(bytes >> 22)))
}

/// Calls `line` for each line of a newline-delimited body (NDJSON).
func forEachLine(_ response: HTTPClientResponse, _ what: String, _ line: ([UInt8]) throws -> Void) async throws {
    _ = try await readLines(response, what) { try line($0); return true }
}

/// Calls `line` for each line of a newline-delimited body until it returns false; whether
/// the whole body was read (false: the rest is left unread and the connection dropped).
func readLines(_ response: HTTPClientResponse, _ what: String, while line: ([UInt8]) throws -> Bool) async throws -> Bool {
    var pending: [UInt8] = []
    for try await buffer in response.body {
        try CallDeadline.check(what)
        for byte in buffer.readableBytesView {
            if byte == UInt8(ascii: "\n") {
                if !pending.isEmpty, try !line(pending) { return false }
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
                guard pending.count <= 16 << 20 else { throw RemoteError(.remote, "\(what): an answer line is too long") }
            }
        }
    }
    try checkStreamError(response, what)
    if !pending.isEmpty { return try line(pending) }
    return true
}

private let allowed: CharacterSet = {
    var set = CharacterSet.alphanumerics
    set.insert(charactersIn: "-._~")
    return set
}()

/// `text` percent-encoded; a CID or a plain word (the usual query value) is returned as it is.
private func escape(_ text: String) -> String {
    let plain = text.utf8.allSatisfy { byte in
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        default: false
        }
    }
    return plain ? text : text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
}

/// `transform` applied to every element of `items` by `width` worker tasks that each take the
/// next unclaimed index (a fixed set of tasks, not one per element); the answers in order.
func concurrentMap<Item: Sendable, Answer: Sendable>(
    _ items: [Item], width: Int, _ transform: @escaping @Sendable (Item) async throws -> Answer
) async throws -> [Answer] {
    let next = NextIndex()
    return try await withThrowingTaskGroup(of: [(Int, Answer)].self) { group in
        for _ in 0..<min(max(1, width), items.count) {
            group.addTask {
                var done: [(Int, Answer)] = []
                while let index = next.claim(below: items.count) {
                    try Task.checkCancellation()
                    done.append((index, try await transform(items[index])))
                }
                return done
            }
        }
        var answers = [Answer?](repeating: nil, count: items.count)
        for try await part in group {
            for (index, answer) in part { answers[index] = answer }
        }
        return answers.map { $0! }
    }
}

/// The shared position of `concurrentMap`'s workers.
private final class NextIndex: Sendable {
    private let value = Mutex(0)

    func claim(below count: Int) -> Int? {
        value.withLock { next in
            guard next < count else { return nil }
            defer { next += 1 }
            return next
        }
    }
}

extension Duration {
    /// `30s`, `1.5s`: Go's duration syntax, which Kubo's `timeout=` takes.
    var goString: String {
        let (seconds, attoseconds) = components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }
}
