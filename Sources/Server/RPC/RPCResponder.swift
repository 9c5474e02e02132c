import Hummingbird
import HTTPTypes

/// The Kubo RPC subset under `/api/v0/` (spec/serve.md). Kubo answers every command on POST
/// only (405 otherwise) and an unknown path with a plain-text 404.
struct RPCResponder: Sendable {
    let state: ServerState

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/api/v0/") else { return .plainText(.notFound, "404 page not found") }
        guard request.method == .post else {
            return .plainText(.methodNotAllowed, "405 - Method Not Allowed")
        }
        return .plainText(.notFound, "404 page not found")
    }
}

extension Response {
    /// A `text/plain` answer, as Kubo gives for routing errors.
    static func plainText(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n"))
        )
    }
}
