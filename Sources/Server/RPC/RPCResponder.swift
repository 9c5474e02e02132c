import Hummingbird
import HTTPTypes
import Logging

/// The Kubo RPC subset under `/api/v0/` (spec/serve.md §5). Kubo answers every command on POST
/// only (405 otherwise, 204 for a CORS preflight) and an unknown path with a plain-text 404.
struct RPCResponder: Sendable {
    let state: ServerState

    /// A command: whether it writes (refused by `--read-only`, run under the one-writer gate),
    /// whether its body is an upload (bounded by the upload limit), and its handler.
    struct Command: Sendable {
        var writes = false
        var upload = false
        var run: @Sendable (RPCRequest, ServerState) async throws -> Response
    }

    static let commands: [String: Command] = [
        "version": Command(run: RPCInfo.version),
        "id": Command(run: RPCInfo.id),
        "block/stat": Command(run: RPCBlocks.stat),
        "block/get": Command(run: RPCBlocks.get),
        "block/put": Command(writes: true, upload: true, run: RPCBlocks.put),
        "block/rm": Command(writes: true, run: RPCBlocks.remove),
        "dag/import": Command(writes: true, upload: true, run: RPCDag.importCARs),
        "dag/export": Command(run: RPCDag.export),
        "pin/add": Command(writes: true, run: RPCPins.add),
        "pin/rm": Command(writes: true, run: RPCPins.remove),
        "pin/ls": Command(run: RPCPins.list),
        "pin/update": Command(writes: true, run: RPCPins.update),
        "pin/verify": Command(run: RPCPins.verify),
        "add": Command(writes: true, upload: true, run: RPCFiles.add),
        "cat": Command(run: RPCFiles.cat),
        "refs/local": Command(run: RPCInfo.localRefs),
        "repo/gc": Command(writes: true, run: RPCInfo.collectGarbage),
    ]

    func respond(to request: Request, context: ServerRequestContext) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/api/v0/") else { return .plainText(.notFound, "404 page not found") }
        if let authorizations = state.authorizations,
           !authorizations.allows(header: request.headers[.authorization], path: path) {
            return .plainText(.forbidden, Authorizations.denied)
        }
        if request.method == .options { return Response(status: .noContent) }
        guard request.method == .post else {
            return .plainText(.methodNotAllowed, "405 - Method Not Allowed")
        }
        var name = String(path.dropFirst("/api/v0/".count))
        if name.hasSuffix("/") { name.removeLast() }
        guard let command = RPCResponder.commands[name] else { return .plainText(.notFound, "404 page not found") }
        do {
            if command.writes && state.configuration.readOnly {
                throw RPCError(status: 403, message: "this server is read-only (cairn serve --read-only): \(name) is refused", code: 4)
            }
            if let length = request.headers[.contentLength].flatMap({ Int64($0) }), length > state.configuration.limits.maxBodyBytes {
                throw RPCError(status: 413, message: "request body is larger than the server's limit of \(state.configuration.limits.maxBodyBytes) bytes", plainText: true)
            }
            let rpc = try RPCRequest(command: name, request: request)
            guard let seconds = rpc.timeout else { return try await run(command, rpc) }
            return try await RPCDeadline.run(seconds: seconds) { try await run(command, rpc) }
        } catch {
            let failure = RPCError.from(error)
            context.logger.info("\(name) failed", metadata: ["status": "\(failure.status)", "error": "\(failure.message)"])
            return RPCOutput.error(failure)
        }
    }
}

extension RPCResponder {
    /// Runs a command; an upload first takes a slot of the upload limit (503 when none is free).
    private func run(_ command: Command, _ rpc: RPCRequest) async throws -> Response {
        guard command.upload else { return try await command.run(rpc, state) }
        guard await state.uploadGate.tryAcquire() else {
            throw RPCError(status: 503, message: "too many uploads at once (the limit is \(state.configuration.limits.concurrentUploads)); try again later", plainText: true)
        }
        do {
            let response = try await command.run(rpc, state)
            await state.uploadGate.release()
            return response
        } catch {
            await state.uploadGate.release()
            throw error
        }
    }
}

extension Response {
    /// A `text/plain` answer, as Kubo gives for routing errors.
    static func plainText(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain; charset=utf-8", .xContentTypeOptions: "nosniff"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n"))
        )
    }
}
