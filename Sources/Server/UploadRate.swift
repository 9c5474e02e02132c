import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Closes a connection whose request body trickles in (spec/serve.md §4, Timeouts). Time is
/// counted only while the server waits for the body: from a `read` the server passes down
/// (it wants more bytes; a server busy with what it has, such as the store's writes, passes
/// none) until bytes arrive. That waiting is paid for from a credit of `slack` seconds, which
/// each body byte refills by 1/`minimumRate` of a second, up to `slack` again: a client must
/// keep up `minimumRate` bytes per second while the server waits for it, with up to `slack`
/// seconds of silence at any point. When the credit is spent the connection is closed, which
/// fails the body and ends the upload (the store's writer, which an upload holds until its
/// last byte, is let go). `minimumRate` 0: only a silence of `slack` seconds closes it.
final class UploadRateHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let slack: Double
    private let minimumRate: Double
    private let interval: TimeAmount
    /// Between a request's head and its end.
    private var inBody = false
    /// Since when the server has been waiting for body bytes (nil: not waiting).
    private var waitingSince: NIODeadline?
    /// Seconds of waiting the client may still cost.
    private var credit: Double
    private var check: Scheduled<Void>?

    init(slackSeconds: Int64, minimumBytesPerSecond: Int64) {
        slack = Double(max(1, slackSeconds))
        minimumRate = Double(max(0, minimumBytesPerSecond))
        credit = slack
        // A quarter of the slack, at most a second: a spent credit is noticed within that.
        interval = .nanoseconds(Int64(min(slack, 4) * 250_000_000))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            inBody = true
            credit = slack
            waitingSince = nil
            schedule(context)
        case .body(let bytes):
            settle(now: .now())
            waitingSince = nil  // that read is answered; the next one starts the clock again
            credit = minimumRate > 0 ? min(slack, credit + Double(bytes.readableBytes) / minimumRate) : slack
        case .end:
            inBody = false
            waitingSince = nil
            check?.cancel()
            check = nil
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if inBody && waitingSince == nil { waitingSince = .now() }
        context.read()
    }

    func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
    }

    /// Charges the waiting up to `now` to the credit.
    private func settle(now: NIODeadline) {
        guard let since = waitingSince else { return }
        credit -= Double((now - since).nanoseconds) / 1e9
        waitingSince = now
    }

    private func schedule(_ context: ChannelHandlerContext) {
        check?.cancel()
        check = context.eventLoop.assumeIsolated().scheduleTask(in: interval) {
            self.check = nil
            guard self.inBody else { return }
            self.settle(now: .now())
            if self.credit <= 0 {
                context.close(promise: nil)
            } else {
                self.schedule(context)
            }
        }
    }
}

/// Sets up each connection below the HTTP types: it reads up to 256 KiB at a time (NIO's
/// adaptive allocator otherwise stops at 64 KiB: a large upload then takes a quarter of the
/// reads, and of the hand-overs to the thread that imports it; 1 GiB `dag/import` into a store
/// on `/dev/shm`: 1.20-1.31 s against 1.28-1.43 s, three alternated runs; 1 MiB gained nothing
/// more; the allocator grows only on connections that fill their reads), and an
/// `HTTP10Handler` goes in next to the request decoder.
final class ConnectionSetupHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart

    func handlerAdded(context: ChannelHandlerContext) {
        _ = context.channel.setOption(ChannelOptions.recvAllocator,
                                      value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 256 << 10))
        let operations = context.pipeline.syncOperations
        if let decoder = try? operations.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self) {
            try? operations.addHandler(HTTP10Handler(), position: .after(decoder.handler))
            try? operations.addHandler(OversizedHeadHandler(), position: .after(decoder.handler))
        }
    }
}

/// Answers a request head over the server's header limit (`ServerLimits.maxHeaderBytes`) as
/// Go's server answers one over its own (net/http `errTooLarge`: Kubo's): 431 with a line of
/// text, then the connection closes. Without it the decoder's error reached Hummingbird, which
/// answers any parse error with an empty 400 (spec/serve.md §4).
final class OversizedHeadHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parser = error as? HTTPParserError, parser == .headerOverflow else {
            context.fireErrorCaught(error)
            return
        }
        let text = "431 Request Header Fields Too Large"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .requestHeaderFieldsTooLarge, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

/// Answers an HTTP/1.0 request as HTTP/1.0 (spec/serve.md §1): the HTTP types above the codec
/// carry no version, so every answer left as HTTP/1.1, a streamed one chunked, and the
/// connection stayed open: an HTTP/1.0 client (ApacheBench, old proxies) read the chunk
/// framing as body bytes and waited for a close that never came. Here, next to the encoder,
/// the answer to such a request gets version 1.0 (the encoder then frames an answer of unknown
/// length by the connection's end), no `Transfer-Encoding`, `Trailer` or trailers, and
/// `Connection: close` unless the request asked for keep-alive and the answer has a
/// `Content-Length`; then the connection is closed once the answer is written.
final class HTTP10Handler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The requests read and not yet answered: whether each is HTTP/1.0, and keep-alive.
    private var requests: [(old: Bool, keepAlive: Bool)] = []
    private var closeAfterAnswer = false
    private var answering = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            requests.append((head.version.major == 1 && head.version.minor == 0, head.isKeepAlive))
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        switch part {
        case .head(var head) where head.status.code >= 200:
            guard let request = requests.first, request.old else {
                answering = !requests.isEmpty
                context.write(data, promise: promise)
                return
            }
            answering = true
            head.version = .http1_0
            head.headers.remove(name: "transfer-encoding")
            head.headers.remove(name: "trailer")
            closeAfterAnswer = !request.keepAlive || !head.headers.contains(name: "content-length")
            head.headers.replaceOrAdd(name: "connection", value: closeAfterAnswer ? "close" : "keep-alive")
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .head:
            // An interim answer (100 Continue) to an HTTP/1.0 request is not sent.
            if let request = requests.first, request.old { promise?.succeed(()); return }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            let old = requests.first?.old ?? false
            if answering, !requests.isEmpty { requests.removeFirst() }
            answering = false
            guard old else {
                context.write(data, promise: promise)
                return
            }
            let close = closeAfterAnswer
            closeAfterAnswer = false
            let written = context.eventLoop.makePromise(of: Void.self)
            context.write(wrapOutboundOut(.end(nil)), promise: written)
            written.futureResult.assumeIsolated().whenComplete { result in
                if close { context.close(promise: nil) }
                promise?.completeWith(result)
            }
        }
    }
}
