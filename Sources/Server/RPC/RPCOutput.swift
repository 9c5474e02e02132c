import CAR
import CairnSystem
import Hummingbird
import HTTPTypes
import Logging
import NIOCore

/// Kubo's response kinds (go-ipfs-cmds http/responseemitter.go `doPreamble`): one JSON value,
/// a channel of JSON values (NDJSON, `X-Chunked-Output: 1`) or a byte stream
/// (`X-Stream-Output: 1`). Every response declares `Trailer: X-Stream-Error`; an error after
/// the 200 head is sent only in that trailer (spec/serve.md §5.2).
enum RPCOutput {
    static let streamError = HTTPField.Name("X-Stream-Error")!
    static let chunkedOutput = HTTPField.Name("X-Chunked-Output")!
    static let streamOutput = HTTPField.Name("X-Stream-Output")!
    static let exposed = "X-Stream-Output, X-Chunked-Output, X-Content-Length"

    static func headers(contentType: String) -> HTTPFields {
        var fields = HTTPFields()
        fields[.contentType] = contentType
        fields[.trailer] = "X-Stream-Error"
        fields[.accessControlAllowHeaders] = exposed
        fields[.accessControlExposeHeaders] = exposed
        fields[.vary] = "Origin"
        return fields
    }

    /// A single value (`cmds.EmitOnce`).
    static func once(_ value: JSONValue) -> Response {
        chunked(.ok, headers(contentType: "application/json"), ByteBuffer(string: value.text + "\n"))
    }

    /// An answer framed as Kubo's are, chunked, never with a `Content-Length`: go-ipfs-cmds
    /// flushes after each value it emits (http/responseemitter.go `Emit`), and Go's server
    /// (net/http `chunkWriter.writeHeader`) never computes a length for an answer that
    /// declares trailers, which every cmds answer does, JSON errors included. The body is one
    /// buffer whose length Hummingbird would send: without that header NIO's encoder chunks it,
    /// and the head, the chunk and the end still go out in one write (a streamed body costs
    /// three: `block/stat` under wrk -c64 lost a third of its requests per second that way).
    /// An HTTP/1.0 request gets the same bytes framed by the connection's end (`HTTP10Handler`).
    static func chunked(_ status: HTTPResponse.Status, _ fields: HTTPFields, _ buffer: ByteBuffer) -> Response {
        var response = Response(status: status, headers: fields, body: ResponseBody(byteBuffer: buffer))
        response.headers[.contentLength] = nil
        return response
    }

    /// Values emitted one by one (`res.Emit`), all known now: NDJSON, with an error after
    /// them in the trailer if `trailerError` is given.
    static func values(_ values: [JSONValue], trailerError: String? = nil) -> Response {
        var fields = headers(contentType: "application/json")
        fields[chunkedOutput] = "1"
        let text = ByteBuffer(string: values.map { $0.text + "\n" }.joined())
        guard let trailerError else { return chunked(.ok, fields, text) }
        return Response(status: .ok, headers: fields, body: ResponseBody { writer in
            try await writer.write(text)
            var trailers = HTTPFields()
            trailers[streamError] = trailerError
            try await writer.finish(trailers)
        })
    }

    /// The error answer sent before any output.
    static func error(_ error: RPCError) -> Response {
        let status = HTTPResponse.Status(code: error.status)
        if error.plainText {
            return Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: error.message + "\n")))
        }
        let value = JSONValue.object([("Message", .string(error.message)), ("Code", .int(error.code)), ("Type", .string("error"))])
        return chunked(status, headers(contentType: "application/json"), ByteBuffer(string: value.text + "\n"))
    }

    /// A stream produced by blocking work on the pool (`produce` writes into the pipe). The
    /// head waits for the first bytes: a failure before any output is an ordinary error
    /// answer with Kubo's status; a failure later ends the body with the `X-Stream-Error`
    /// trailer. A client that goes away fails the pipe, which stops the producer.
    /// With `gate`, the producer holds it (the one-writer gate of `repo/gc`) while it runs. A
    /// request `timeout` that passes once the head is sent ends the body with Kubo's
    /// `context deadline exceeded` in the trailer.
    static func stream(
        state: ServerState, contentType: String, chunked: Bool, bytes: Bool, gate: AsyncGate? = nil,
        produce: @escaping @Sendable (BytePipe) throws -> Void
    ) async throws -> Response {
        let pipe = BytePipe(capacity: 2 << 20)
        let logger = state.logger
        let deadline = RPCDeadline.instant
        // A stream's turn: the stream gate, or the gate given instead (GC's writer gate).
        let gate = gate ?? state.streamGate
        Task {
            await gate.acquire()
            do {
                try await state.pool.run {
                    try produce(pipe)
                    pipe.finish()
                }
            } catch {
                pipe.fail(RPCError.from(error))
            }
            await gate.release()
        }
        let first: ByteBuffer?
        do { first = try await pipe.receive() } catch { throw RPCError.from(error) }
        var fields = headers(contentType: contentType)
        if chunked { fields[chunkedOutput] = "1" }
        if bytes { fields[streamOutput] = "1" }
        // The body may never run (the connection closed before the head could be written):
        // then the producer, blocked on a full pipe, would hold its turn and a pool thread for
        // good. Letting go of the body fails the pipe (after a finished body it changes nothing).
        let release = PipeRelease(pipe)
        return Response(status: .ok, headers: fields, body: ResponseBody { writer in
            _ = release
            do {
                if let first { try await writer.write(first) }
                while true {
                    let next: ByteBuffer?
                    do {
                        if let deadline, ContinuousClock.now >= deadline { throw RPCError.normal(RPCDeadline.message) }
                        next = try await pipe.receive()
                    } catch {
                        let message = RPCError.from(error).message
                        pipe.fail(RPCError.normal(message))
                        logger.warning("stream ended with an error", metadata: ["error": "\(message)"])
                        var trailers = HTTPFields()
                        trailers[streamError] = message
                        try await writer.finish(trailers)
                        return
                    }
                    guard let next else { break }
                    try await writer.write(next)
                }
                try await writer.finish(nil)
            } catch {
                pipe.fail(error)
                throw error
            }
        })
    }
}

/// A CAR output into a pipe (`dag/export`): not seekable, so only CARv1 streams through it.
final class PipeCAROutput: CAROutput {
    let pipe: BytePipe
    private var pending = ByteBuffer()

    init(pipe: BytePipe) { self.pipe = pipe }

    func write(_ bytes: UnsafeRawBufferPointer) throws(CARError) {
        pending.writeBytes(bytes)
        if pending.readableBytes >= 256 << 10 { try flush() }
    }

    var isSeekable: Bool { false }

    func replace(_ range: Range<UInt64>, with bytes: UnsafeRawBufferPointer) throws(CARError) {
        throw CARError(.invalidUse, "a CAR sent over HTTP cannot be edited in place")
    }

    func flush() throws(CARError) {
        guard pending.readableBytes > 0 else { return }
        do { try pipe.sendBlocking(pending) } catch { throw CARError(.io, "the client went away: \(error)") }
        pending = ByteBuffer()
    }
}

/// A JSON value written as Go's `encoding/json` writes Kubo's structs: fields in declaration
/// order, no spaces, `<`, `>` and `&` escaped as `\u003c`, `\u003e`, `\u0026`.
indirect enum JSONValue: Sendable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// `{"/":"<cid>"}`, how Kubo writes a CID link.
    static func link(_ cid: String) -> JSONValue { .object([("/", .string(cid))]) }

    var text: String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .string(let text): JSONValue.quote(text, into: &out)
        case .int(let number): out += String(number)
        case .bool(let flag): out += flag ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (index, (key, value)) in fields.enumerated() {
                if index > 0 { out += "," }
                JSONValue.quote(key, into: &out)
                out += ":"
                value.write(into: &out)
            }
            out += "}"
        }
    }

    static func quote(_ text: String, into out: inout String) {
        JSONText.appendQuoted(text, to: &out, escapingHTML: true)
    }
}

/// Fails a pipe when let go of: held by a streamed answer's body closure, so that a body that
/// never runs still ends its producer.
final class PipeRelease: Sendable {
    let pipe: BytePipe
    init(_ pipe: BytePipe) { self.pipe = pipe }
    deinit { pipe.fail(CancellationError()) }
}
