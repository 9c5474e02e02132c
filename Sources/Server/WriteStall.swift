import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client has stopped reading what it asked for. While the channel
/// is not writable (its outbound buffer over the high-water mark), the bytes still buffered are
/// sampled every `limit`; if they have not gone down since the sample before, the client has
/// read nothing in that time and the connection is closed, which fails the response's pending
/// write and lets go of its buffers (a CAR stream holds about 20 MiB). A client that reads,
/// however slowly, keeps its connection. Hummingbird's idle timeout covers only a connection
/// with no request in flight, so without this a client that stopped reading a large answer
/// held its worker and buffers for good (spec/serve.md §6).
final class WriteStallHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart

    private let limit: TimeAmount
    private var check: Scheduled<Void>?
    private var lastBuffered = 0

    init(limit: TimeAmount) { self.limit = limit }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            check?.cancel()
            check = nil
        } else if check == nil {
            lastBuffered = Self.buffered(context)
            schedule(context)
        }
        context.fireChannelWritabilityChanged()
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

    private func schedule(_ context: ChannelHandlerContext) {
        check = context.eventLoop.assumeIsolated().scheduleTask(in: limit) {
            self.check = nil
            guard !context.channel.isWritable else { return }
            let now = Self.buffered(context)
            if now >= self.lastBuffered {
                context.close(promise: nil)
            } else {
                self.lastBuffered = now
                self.schedule(context)
            }
        }
    }

    private static func buffered(_ context: ChannelHandlerContext) -> Int {
        (try? context.channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) ?? 0
    }
}
