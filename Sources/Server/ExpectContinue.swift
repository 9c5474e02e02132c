import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` (RFC 9110 §10.1.1) with an interim `100 Continue`, which
/// neither NIO nor Hummingbird sends: curl asks for it before a large upload and would
/// otherwise wait a second before sending the body. A request whose `Content-Length` is over
/// the body limit, or one the RPC's credentials refuse, gets no 100: its final 413 or 403
/// comes before any of the body is sent. The
/// `Expect` field is taken off the request passed on.
final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private let maxBodyBytes: Int64
    /// The RPC's credentials: a request they refuse gets no 100, its 403 comes first (as
    /// Kubo's Go server answers), and the client is not invited to send its body.
    private let authorizations: Authorizations?

    init(maxBodyBytes: Int64, authorizations: Authorizations? = nil) {
        self.maxBodyBytes = maxBodyBytes
        self.authorizations = authorizations
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var request) = unwrapInboundIn(data),
              let expect = request.headerFields[.expect], expect.lowercased() == "100-continue"
        else {
            context.fireChannelRead(data)
            return
        }
        request.headerFields[.expect] = nil
        let length = request.headerFields[.contentLength].flatMap { Int64($0) } ?? 0
        let path = String((request.path ?? "").prefix { $0 != "?" })
        let allowed = authorizations.map { $0.allows(header: request.headerFields[.authorization], path: path) } ?? true
        if length <= maxBodyBytes && allowed {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(wrapInboundOut(.head(request)))
    }
}
