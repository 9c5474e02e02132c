import Hummingbird

/// The trustless gateway under `/ipfs/` and `/ipns/` (spec/serve.md).
struct GatewayResponder: Sendable {
    let state: ServerState

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        .plainText(.notFound, "404 page not found")
    }
}
